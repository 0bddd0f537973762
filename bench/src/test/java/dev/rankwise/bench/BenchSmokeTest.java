package dev.rankwise.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rankwise.Device;
import dev.rankwise.spi.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// Every benchmark runs once (`--smoke`: tiny case, one iteration, in this JVM) and writes its rows.
/// GPU suites run where a GPU is; elsewhere they must stop with exit code 1. This checks that the
/// benchmarks keep working; their figures are not judged (speed is never a test).
class BenchSmokeTest {
    @Test
    void everyBenchmarkRunsAndWritesItsRows(@TempDir Path dir) throws Exception {
        boolean gpu = Backends.isAvailable(Device.cuda(0));
        for (String name : BenchMain.SUITES.keySet()) {
            Path json = dir.resolve(name + ".json");
            int code = BenchMain.run(new String[] {name, "--smoke", "--json", json.toString()});
            if (name.startsWith("gpu") && !gpu) {
                assertEquals(1, code, name + " without a GPU stops with the reason and exit code 1");
                continue;
            }
            assertEquals(0, code, name);
            JsonNode rows = new ObjectMapper().readTree(json.toFile());
            assertTrue(rows.size() > 0, name + " wrote no rows");
            for (JsonNode r : rows) {
                for (String field : new String[] {"case", "threads", "rankwise", "peer", "peer_name", "ratio", "unit"}) {
                    assertTrue(r.has(field), name + " row lacks " + field + ": " + r);
                }
                assertTrue(r.get("rankwise").asDouble() > 0, name + ": " + r);
            }
        }
    }

    @Test
    void badUsageIsRejectedWithExitCode2() {
        assertEquals(2, BenchMain.run(new String[] {"nosuch"}));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--threads"}));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--threads", "zero"}));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--frobnicate"}));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--shapes", "4096x16"}));
        assertEquals(2, BenchMain.run(new String[] {"gemm", "--shapes", "16x4096x1024:TX"}));
        assertEquals(2, BenchMain.run(new String[] {"lowrank", "--shapes", "12x3x4"}));
    }
}

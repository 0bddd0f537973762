package dev.rankwise.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rankwise.cli.data.FashionMnist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/// `rankwise repro sora --quick` end to end: it runs, SoRA finds the planted ranks, and the results
/// files carry the promised fields. Experiment 2 is checked when Fashion-MNIST is installed.
class ReproSoraTest {
    @Test
    void quickReproductionWritesResultsAndFindsThePlantedRanks(@TempDir Path out) throws Exception {
        assertEquals(0, Main.run("repro", "sora", "--quick", "--out", out.toString()));
        JsonNode planted = new ObjectMapper().readTree(out.resolve("planted/results.json").toFile());
        for (String key : new String[] {"experiment", "command", "seeds", "machine", "planted_ranks", "rows"}) {
            assertTrue(planted.has(key), "planted results lack " + key);
        }
        assertTrue(planted.get("sora_found_planted_ranks").asBoolean(), planted.toPrettyString());
        boolean sawSora = false;
        for (JsonNode row : planted.get("rows")) {
            for (String key : new String[] {"method", "rank", "trainable_params", "params_after_pruning", "metric", "metric_mean", "metric_std", "seconds"}) {
                assertTrue(row.has(key), "row lacks " + key + ": " + row);
            }
            if (row.get("method").asText().equals("SoRA")) {
                sawSora = true;
                assertEquals(planted.get("planted_ranks"), row.get("effective_ranks"));
                assertTrue(row.get("params_after_pruning").asLong() < row.get("trainable_params").asLong());
            }
        }
        assertTrue(sawSora);
        for (String png : new String[] {"loss.png", "sora_gates.png", "sora_scheduler.png"}) {
            assertNotNull(ImageIO.read(out.resolve("planted").resolve(png).toFile()), png + " is a readable PNG");
        }
        if (FashionMnist.locate(null) != null) {
            JsonNode fashion = new ObjectMapper().readTree(out.resolve("fashion-mnist/results.json").toFile());
            assertEquals(4, fashion.get("rows").size());
            for (JsonNode row : fashion.get("rows")) assertTrue(row.get("metric_mean").asDouble() > 0.5, row.toString());
        }
        try (var files = Files.list(out.resolve("planted"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left behind");
        }
    }

    @Test
    void unknownReproductionIsAUsageError() {
        assertEquals(2, Main.run("repro", "nope"));
        assertEquals(0, Main.run("repro", "list"));
        assertEquals(2, Main.run("repro"));
    }
}

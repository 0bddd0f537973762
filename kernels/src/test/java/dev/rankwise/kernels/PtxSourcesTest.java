package dev.rankwise.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The checked-in PTX is current with its CUDA C sources, and compiles for sm_80 and sm_90.
class PtxSourcesTest {
    private static final Path SRC = Path.of("src/main/cuda");
    private static final Path OUT = Path.of("src/main/resources/dev/rankwise/kernels");

    /// Mirrors build-ptx.sh's hash: the .cu, every .cuh in name order, then the flags line.
    static String sourceHash(Path cu, String flagsLine) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(cu));
        try (var headers = Files.list(SRC)) {
            for (Path h : headers.filter(p -> p.toString().endsWith(".cuh")).sorted().toList()) sha.update(Files.readAllBytes(h));
        }
        sha.update(flagsLine.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String header(String ptx, String key) {
        Matcher m = Pattern.compile("^// " + key + ":? (.*)$", Pattern.MULTILINE).matcher(ptx);
        assertTrue(m.find(), "PTX header lacks '" + key + "'");
        return m.group(1);
    }

    /// Runs everywhere (no CUDA tools needed): a PTX file whose sources changed since it was written fails.
    @Test
    void everyPtxRecordsTheHashOfItsCurrentSources() throws Exception {
        List<Path> sources;
        try (var s = Files.list(SRC)) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        assertTrue(sources.size() >= 4, "found " + sources);
        for (Path cu : sources) {
            String name = cu.getFileName().toString().replace(".cu", "");
            Path ptx = OUT.resolve(name + ".ptx");
            assertTrue(Files.exists(ptx), name + ".ptx is missing: run kernels/build-ptx.sh");
            String text = Files.readString(ptx);
            String flags = header(text, "flags");
            String isa = Pattern.compile("^\\.version (\\S+)$", Pattern.MULTILINE).matcher(text).results().findFirst().orElseThrow().group(1);
            String arch = flags.replaceAll(".*-arch=(\\S+).*", "$1");
            String want = sourceHash(cu, "flags=" + flags + " isa=" + isa + " arch=" + arch + "\n");
            assertEquals(want, header(text, "source-sha256"), name + ".ptx is stale: run kernels/build-ptx.sh");
            assertEquals("8.0", isa, name + ".ptx: PTX ISA 8.0 keeps CUDA 12 drivers able to load it");
        }
    }

    /// The script's check mode: ptxas for sm_80 and sm_90 (and nvcc's byte comparison where nvcc is
    /// the same version). Skips where ptxas is not installed; CI machines have it.
    @Test
    void ptxasCompilesEveryKernelForSm80AndSm90() throws Exception {
        boolean ptxas = onPath("ptxas");
        Assumptions.assumeTrue(ptxas, "ptxas is not on the PATH: PTX compile check skipped (install the CUDA toolkit's ptxas to run it)");
        Process p = new ProcessBuilder("bash", "build-ptx.sh", "--check").redirectErrorStream(true).start();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        p.getInputStream().transferTo(log);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "build-ptx.sh --check timed out");
        String out = log.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(0, p.exitValue(), "build-ptx.sh --check failed:\n" + out);
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}

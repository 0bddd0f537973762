package dev.rankwise.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/// Debian's `python3-torch`, the PyTorch peer of the CPU benchmarks (run by [BenchMain#torch] with
/// Debian's `/usr/bin/python3`). When `import torch` fails there, it is installed with `apt-get` if
/// this process may (root, or password-less sudo); otherwise, or when the install fails, the peer is
/// reported as not installed. Asked once per run.
final class TorchPeer {
    private static Boolean available;

    private TorchPeer() {}

    /// True when the peer can run, after installing it where that is possible.
    static synchronized boolean ensureInstalled() {
        if (available != null) return available;
        available = importsTorch();
        if (available) return true;
        List<String> sudo = installer();
        if (sudo == null) {
            System.err.println("rankwise bench: PyTorch (Debian's python3-torch) is not installed, and installing it needs "
                    + "apt-get and root or password-less sudo; the PyTorch peer is left out");
            return false;
        }
        System.err.println("rankwise bench: installing Debian's python3-torch for the PyTorch peer (apt-get)...");
        if (!run(apt(sudo, "install", "-y", "-q", "python3-torch"), 1800)) {
            run(apt(sudo, "update", "-q"), 600);
            run(apt(sudo, "install", "-y", "-q", "python3-torch"), 1800);
        }
        available = importsTorch();
        if (!available) System.err.println("rankwise bench: could not install python3-torch; the PyTorch peer is left out");
        return available;
    }

    private static boolean importsTorch() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) && run(List.of("/usr/bin/python3", "-c", "import torch"), 120);
    }

    /// The command prefix that may run apt-get ([] as root, [sudo, -n] with password-less sudo), or null.
    private static List<String> installer() {
        if (!run(List.of("sh", "-c", "command -v apt-get"), 10)) return null;
        if (run(List.of("sh", "-c", "[ \"$(id -u)\" = 0 ]"), 10)) return List.of();
        if (run(List.of("sudo", "-n", "true"), 10)) return List.of("sudo", "-n");
        return null;
    }

    private static List<String> apt(List<String> prefix, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add("env");
        cmd.add("DEBIAN_FRONTEND=noninteractive");
        cmd.add("apt-get");
        cmd.addAll(List.of(args));
        return cmd;
    }

    /// Runs `cmd` with its output discarded; true when it exits with 0 within `seconds`.
    private static boolean run(List<String> cmd, int seconds) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}

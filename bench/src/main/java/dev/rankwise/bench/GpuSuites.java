package dev.rankwise.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rankwise.DType;
import dev.rankwise.Device;
import dev.rankwise.Memory;
import dev.rankwise.Tensor;
import dev.rankwise.bench.BenchMain.Options;
import dev.rankwise.bench.BenchMain.Row;
import dev.rankwise.cuda.Cuda;
import dev.rankwise.cuda.CudaLowRank;
import dev.rankwise.cuda.CudaOptim;
import dev.rankwise.cuda.CudaSvdInit;
import dev.rankwise.linalg.Linalg;
import dev.rankwise.random.Generator;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/// `rankwise bench gpu` and `rankwise bench gpu-lowrank`: Rankwise on cuda:0 against PyTorch (+ PEFT)
/// on the same GPU in the same run (torch_gpu_peer.py). GPU work is timed by wall clock around a
/// stream synchronization, median of repetitions after warm-up (the peer uses CUDA events the same
/// way); JMH adds nothing for millisecond-long device work. Without a GPU both fail at once with the reason.
final class GpuSuites {
    private GpuSuites() {}

    static final Device GPU = Device.cuda(0);

    private static void requireGpu() {
        if (!Cuda.isAvailable()) {
            throw new IllegalStateException("no GPU: " + Cuda.unavailableReason()
                    + ". These benchmarks need an NVIDIA GPU; see engine-cuda/GPU-RESULTS.md for how to run them on one.");
        }
    }

    /// Median milliseconds of `op` (synchronized before and after each repetition).
    static double medianMs(Runnable op, int warmup, int reps) {
        for (int i = 0; i < warmup; i++) scoped(op);
        Cuda.synchronize(GPU);
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            scoped(op);
            Cuda.synchronize(GPU);
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    /// Runs `op` in a Memory scope, so its outputs return to the allocator's cache at once.
    private static void scoped(Runnable op) {
        try (var s = Memory.scope()) {
            op.run();
        }
    }

    /// The peer's results, or an error row's reason in "error".
    private static JsonNode torch(String suite, boolean quick) {
        try {
            Path script = Files.createTempFile("torch_gpu_peer", ".py");
            try (var in = GpuSuites.class.getResourceAsStream("torch_gpu_peer.py")) {
                Files.write(script, in.readAllBytes());
            }
            // stderr goes to a file: read after stdout, a pipe full of warnings would block the peer.
            Path errFile = Files.createTempFile("torch_gpu_peer", ".err");
            try {
                for (String py : new String[] {"python3", "/usr/bin/python3"}) {
                    Process p = new ProcessBuilder(py, script.toString(), suite, quick ? "quick" : "full")
                            .redirectError(ProcessBuilder.Redirect.to(errFile.toFile())).start();
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                    if (p.waitFor() == 0 && out.startsWith("{")) return new ObjectMapper().readTree(out);
                    String err = new String(Files.readAllBytes(errFile), StandardCharsets.UTF_8).trim();
                    if (!err.isEmpty()) System.err.println("rankwise bench: PyTorch peer (" + py + "): " + err.lines().reduce((a, b) -> b).orElse(err));
                }
            } finally {
                Files.deleteIfExists(errFile);
                Files.deleteIfExists(script);
            }
        } catch (Exception e) {
            System.err.println("rankwise bench: PyTorch peer failed: " + e);
        }
        return new ObjectMapper().createObjectNode();
    }

    private static double peer(JsonNode t, String key) {
        JsonNode v = t.get(key);
        return v == null ? Double.NaN : v.asDouble();
    }

    private static String peerName(JsonNode t, String what) {
        return t.has("device") ? what : what + " (peer not available)";
    }

    // ---------------------------------------------------------------- gpu

    static List<Row> gpu(Options o) {
        requireGpu();
        System.err.println("rankwise bench gpu: " + Cuda.description());
        JsonNode t = torch("gpu", o.quick());
        List<Row> rows = new ArrayList<>();
        int[][] shapes = o.quick() ? new int[][] {{1024, 1024, 1024}, {4096, 1024, 16}}
                : new int[][] {{4096, 4096, 4096}, {8192, 8192, 8192}, {8192, 4096, 16}, {8192, 16, 4096}, {16384, 4096, 4096}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (int[] s : shapes) {
                Tensor a = Tensor.randn(new Generator(1), dt, GPU, s[0], s[1]), b = Tensor.randn(new Generator(2), dt, GPU, s[1], s[2]);
                String name = "gemm " + dt + " " + s[0] + "x" + s[1] + "x" + s[2];
                double flops = 2.0 * s[0] * s[1] * s[2];
                double ms = medianMs(() -> a.matmul(b), 3, 20), peerMs = peer(t, name);
                rows.add(new Row(name, 1, flops / ms / 1e6, flops / peerMs / 1e6, peerName(t, "torch.matmul"), peerMs / ms, "GFLOP/s"));
            }
            for (int[] s : o.quick() ? new int[][] {{512, 256}} : new int[][] {{1024, 1024}, {4096, 1024}}) {
                Tensor a = Tensor.randn(new Generator(3), dt, GPU, s[0], s[1]);
                String name = "svd " + dt + " " + s[0] + "x" + s[1];
                double ms = medianMs(() -> Linalg.svd(a), 1, 5), peerMs = peer(t, name);
                rows.add(new Row(name, 1, ms, peerMs, peerName(t, "torch.linalg.svd"), peerMs / ms, "ms"));
            }
            int n = o.quick() ? 256 : 2048;
            Tensor x = Tensor.randn(new Generator(4), dt, GPU, n, n);
            Tensor spd = x.matmul(x.t()).add(Tensor.eye(n, dt).mul((double) n).to(GPU));
            String name = "eigh " + dt + " " + n;
            double ms = medianMs(() -> Linalg.eigh(spd), 1, 5), peerMs = peer(t, name);
            rows.add(new Row(name, 1, ms, peerMs, peerName(t, "torch.linalg.eigh"), peerMs / ms, "ms"));
        }
        return rows;
    }

    // ---------------------------------------------------------------- gpu-lowrank

    static List<Row> lowrank(Options o) {
        requireGpu();
        System.err.println("rankwise bench gpu-lowrank: " + Cuda.description());
        JsonNode t = torch("gpu-lowrank", o.quick());
        List<Row> rows = new ArrayList<>();
        int d = o.quick() ? 1024 : 4096, tokens = o.quick() ? 2048 : 8192, r = 16;
        int[][] layers = {{d, d}, {d, d}, {d, d}, {d, d}, {d, 4 * d}, {4 * d, d}};   // q, k, v, o, up, down: {in, out}
        for (String method : new String[] {"lora", "sora"}) {
            boolean sora = method.equals("sora");
            Generator gen = new Generator(7);
            List<Tensor> w = new ArrayList<>(), a = new ArrayList<>(), b = new ArrayList<>(), g = new ArrayList<>(), x = new ArrayList<>(), dy = new ArrayList<>();
            List<Tensor> m = new ArrayList<>(), v = new ArrayList<>();
            for (int[] l : layers) {
                w.add(Tensor.randn(gen, DType.F32, GPU, l[1], l[0]));
                a.add(Tensor.randn(gen, DType.F32, GPU, r, l[0]).mul(0.01));
                b.add(Tensor.zeros(GPU, DType.F32, l[1], r));
                g.add(sora ? Tensor.randn(gen, DType.F32, GPU, r) : null);
                x.add(Tensor.randn(gen, DType.F32, GPU, tokens, l[0]));
                dy.add(Tensor.randn(gen, DType.F32, GPU, tokens, l[1]));
            }
            for (Tensor p : concat(a, b)) {
                m.add(Tensor.zeros(GPU, DType.F32, p.shape()));
                v.add(Tensor.zeros(GPU, DType.F32, p.shape()));
            }
            int[] step = {0};
            Runnable trainStep = () -> {
                List<Tensor> grads = new ArrayList<>(), gateGrads = new ArrayList<>();
                List<Tensor> dA = new ArrayList<>(), dB = new ArrayList<>();
                for (int i = 0; i < layers.length; i++) {
                    CudaLowRank.Forward f = CudaLowRank.forward(x.get(i), w.get(i), null, a.get(i), b.get(i), g.get(i), 2.0);
                    CudaLowRank.Grads gr = CudaLowRank.backward(x.get(i), dy.get(i), w.get(i), a.get(i), b.get(i), g.get(i), 2.0, f.h(), true);
                    dA.add(gr.dA());
                    dB.add(gr.dB());
                    if (sora) gateGrads.add(gr.dg());
                }
                grads.addAll(dA);
                grads.addAll(dB);
                step[0]++;
                CudaOptim.adamW(concat(a, b), grads, m, v, 1e-4, 0.9, 0.999, 1e-8, 0.01, step[0]);
                if (sora) CudaOptim.soraGate(g, gateGrads, null, null, true, 1e-3, 0.1, step[0]);
            };
            String name = method + " block step d=" + d + " r=" + r + " tokens=" + tokens;
            double ms = medianMs(trainStep, 3, 10), peerMs = peer(t, name);
            rows.add(new Row(name, 1, ms, peerMs, peerName(t, sora ? "PyTorch eager (authors' SoRA)" : "PyTorch + PEFT LoRA"), peerMs / ms, "ms"));
        }
        // PiSSA initialization of many matrices (PEFT's pissa_niter_4: randomized SVD with 4 power iterations).
        int count = o.quick() ? 4 : 32, n = o.quick() ? 1024 : 4096;
        Tensor ws = Tensor.randn(new Generator(9), DType.F32, GPU, count, n, n);
        String name = "pissa_niter_4 " + count + "x" + n + "x" + n + " r=16";
        double ms = medianMs(() -> CudaSvdInit.init(ws, 16, 1.0, 4, 0, new Generator(10), false), 1, 3), peerMs = peer(t, name);
        rows.add(new Row(name, 1, ms, peerMs, peerName(t, "PEFT pissa_niter_4"), peerMs / ms, "ms"));
        CudaSvdInit.Result res = CudaSvdInit.init(ws, 16, 1.0, 4, 0, new Generator(10), false);
        double err = 0;
        for (int i = 0; i < count; i++) {
            Tensor wi = ws.select(0, i);
            err += wi.sub(res.b().select(0, i).matmul(res.a().select(0, i))).norm().item() / wi.norm().item();
        }
        err /= count;
        double peerErr = peer(t, name + " relative error");
        rows.add(new Row(name + " ‖W−sBA‖/‖W‖", 1, err, peerErr, peerName(t, "PEFT pissa_niter_4"), peerErr / err, "rel. error"));
        // Bandwidth of the multi-tensor steps, against PyTorch and against a device-to-device copy.
        int tensors = o.quick() ? 256 : 2048, size = 65536;
        List<Tensor> ps = new ArrayList<>(), gs = new ArrayList<>(), mm = new ArrayList<>(), vv = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            ps.add(Tensor.randn(new Generator(100 + i), DType.F32, GPU, size));
            gs.add(Tensor.randn(new Generator(5000 + i), DType.F32, GPU, size));
            mm.add(Tensor.zeros(GPU, DType.F32, size));
            vv.add(Tensor.zeros(GPU, DType.F32, size));
        }
        Tensor big = Tensor.zeros(GPU, DType.F32, 64 << 20), dst = Tensor.zeros(GPU, DType.F32, 64 << 20);
        double copyGBs = 2.0 * big.numel() * 4 / (medianMs(() -> dst.copyFrom(big), 3, 20) * 1e6);
        int[] k = {0};
        double adamGBs = 28.0 * tensors * size / (medianMs(() -> CudaOptim.adamW(ps, gs, mm, vv, 1e-3, 0.9, 0.999, 1e-8, 0.0, ++k[0]), 3, 20) * 1e6);
        double gateGBs = 12.0 * tensors * size / (medianMs(() -> CudaOptim.soraGate(ps, gs, null, null, true, 1e-3, 0.1, 1), 3, 20) * 1e6);
        String ad = "adamw " + tensors + "x" + size, ga = "gate " + tensors + "x" + size;
        rows.add(new Row(ad, 1, adamGBs, copyGBs, "device copy bandwidth", adamGBs / copyGBs, "GB/s"));
        rows.add(new Row(ad, 1, adamGBs, peer(t, ad), peerName(t, "torch.optim.AdamW(fused)"), adamGBs / peer(t, ad), "GB/s"));
        rows.add(new Row(ga, 1, gateGBs, copyGBs, "device copy bandwidth", gateGBs / copyGBs, "GB/s"));
        rows.add(new Row(ga, 1, gateGBs, peer(t, ga), peerName(t, "PyTorch foreach"), gateGBs / peer(t, ga), "GB/s"));
        return rows;
    }

    private static List<Tensor> concat(List<Tensor> a, List<Tensor> b) {
        List<Tensor> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}

"""PyTorch (+ PEFT) peers of `rankwise bench gpu` and `rankwise bench gpu-lowrank`, on the same GPU.

Usage: python3 torch_gpu_peer.py SUITE MODE     SUITE: gpu | gpu-lowrank, MODE: quick | full
Prints one JSON object {case: value} with the same case names the Java side uses; times are
medians in milliseconds (CUDA events around each repetition, after warm-up), bandwidths in GB/s.
Exits 2 with a message on stderr when torch or a CUDA device is missing.
"""
import json
import sys


def median_ms(fn, warmup=3, reps=20):
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def gpu_suite(quick):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False   # plain F32, as Rankwise's default
    out = {}
    shapes = [(1024, 1024, 1024), (4096, 1024, 16)] if quick else \
        [(4096, 4096, 4096), (8192, 8192, 8192), (8192, 4096, 16), (8192, 16, 4096), (16384, 4096, 4096)]
    for dtype, name in ((torch.float32, "F32"), (torch.float64, "F64")):
        for m, k, n in shapes:
            a = torch.randn(m, k, device="cuda", dtype=dtype)
            b = torch.randn(k, n, device="cuda", dtype=dtype)
            out[f"gemm {name} {m}x{k}x{n}"] = median_ms(lambda: torch.matmul(a, b))
        for m, n in ((1024, 1024), (4096, 1024)) if not quick else ((512, 256),):
            a = torch.randn(m, n, device="cuda", dtype=dtype)
            out[f"svd {name} {m}x{n}"] = median_ms(lambda: torch.linalg.svd(a, full_matrices=False), warmup=1, reps=5)
        for n in (2048,) if not quick else (256,):
            x = torch.randn(n, n, device="cuda", dtype=dtype)
            s = x @ x.T + n * torch.eye(n, device="cuda", dtype=dtype)
            out[f"eigh {name} {n}"] = median_ms(lambda: torch.linalg.eigh(s), warmup=1, reps=5)
    return out


def block_linears(d):
    """The six adapted linears of a pre-norm Transformer block: q, k, v, o (d -> d), up (d -> 4d), down (4d -> d)."""
    return [("q", d, d), ("k", d, d), ("v", d, d), ("o", d, d), ("up", d, 4 * d), ("down", 4 * d, d)]


def lowrank_suite(quick):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    d, tokens, r = (1024, 2048, 16) if quick else (4096, 8192, 16)
    out = {}
    # LoRA through PEFT on plain nn.Linear layers; SoRA as its authors' code computes it (a gate
    # vector between A and B), both trained by torch.optim.AdamW, the SoRA gate by the proximal step.
    import peft
    layers = block_linears(d)
    for method in ("lora", "sora"):
        model = torch.nn.ModuleDict({name: torch.nn.Linear(i, o, bias=False, device="cuda") for name, i, o in layers})
        for p in model.parameters():
            p.requires_grad_(False)
        if method == "lora":
            cfg = peft.LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules=[n for n, _, _ in layers])
            wrapped = peft.get_peft_model(torch.nn.Sequential(model), cfg)
            mods = {name: wrapped.base_model.model[0][name] for name, _, _ in layers}
            params = [p for p in wrapped.parameters() if p.requires_grad]
            gates = []
            fwd = lambda name, x: mods[name](x)
        else:
            A = {n: torch.nn.Parameter(torch.randn(r, i, device="cuda") * 0.01) for n, i, _ in layers}
            B = {n: torch.nn.Parameter(torch.zeros(o, r, device="cuda")) for n, _, o in layers}
            G = {n: torch.nn.Parameter(torch.randn(r, device="cuda")) for n, _, _ in layers}
            params = list(A.values()) + list(B.values())
            gates = list(G.values())
            fwd = lambda name, x: model[name](x) + 2.0 * ((x @ A[name].T) * G[name]) @ B[name].T
        opt = torch.optim.AdamW(params, lr=1e-4)
        xs = {n: torch.randn(tokens, i, device="cuda", requires_grad=True) for n, i, _ in layers}
        dys = {n: torch.randn(tokens, o, device="cuda") for n, _, o in layers}

        def step():
            outs = [fwd(n, xs[n]) for n, _, _ in layers]
            torch.autograd.backward(outs, [dys[n] for n, _, _ in layers])
            opt.step()
            opt.zero_grad(set_to_none=True)
            with torch.no_grad():
                for g in gates:
                    z = g - 1e-3 * g.grad
                    g.copy_(torch.sign(z) * torch.clamp(z.abs() - 1e-3 * 0.1, min=0))
                    g.grad = None
            for x in xs.values():
                x.grad = None
        out[f"{method} block step d={d} r={r} tokens={tokens}"] = median_ms(step, warmup=3, reps=10)
    # PiSSA initialization of many matrices, PEFT's pissa_niter_4 (torch.svd_lowrank, niter 4).
    count, n = (4, 1024) if quick else (32, 4096)
    model = torch.nn.Sequential(*[torch.nn.Linear(n, n, bias=False, device="cuda") for _ in range(count)])
    names = [str(i) for i in range(count)]
    original = [m.weight.detach().clone() for m in model]

    def pissa():
        # Fresh layers made on the GPU (a CPU-side init of 32 matrices of 4096² would be timed too).
        m2 = torch.nn.Sequential(*[torch.nn.Linear(n, n, bias=False, device="cuda") for _ in range(count)])
        with torch.no_grad():
            for dst, src in zip(m2, original):
                dst.weight.copy_(src)
        cfg = peft.LoraConfig(r=16, lora_alpha=16, target_modules=names, init_lora_weights="pissa_niter_4")
        return peft.get_peft_model(m2, cfg)

    out[f"pissa_niter_4 {count}x{n}x{n} r=16"] = median_ms(pissa, warmup=1, reps=3)
    wrapped = pissa()
    errs = []
    for i in range(count):
        layer = wrapped.base_model.model[i]
        a, b = layer.lora_A["default"].weight, layer.lora_B["default"].weight
        s = layer.scaling["default"]
        errs.append(float(torch.linalg.norm(original[i] - s * b @ a) / torch.linalg.norm(original[i])))
    out[f"pissa_niter_4 {count}x{n}x{n} r=16 relative error"] = sum(errs) / len(errs)
    # Multi-tensor AdamW and the gate update over many small tensors: bandwidth in GB/s.
    tensors, size = (256, 65536) if quick else (2048, 65536)
    ps = [torch.randn(size, device="cuda", requires_grad=True) for _ in range(tensors)]
    for p in ps:
        p.grad = torch.randn_like(p)
    opt = torch.optim.AdamW(ps, lr=1e-3, fused=True)
    ms = median_ms(opt.step)
    out[f"adamw {tensors}x{size}"] = 28.0 * tensors * size / (ms * 1e6)
    gates = [torch.randn(size, device="cuda") for _ in range(tensors)]
    grads = [torch.randn(size, device="cuda") for _ in range(tensors)]

    def gate_step():
        zs = torch._foreach_sub(gates, torch._foreach_mul(grads, 1e-3))
        res = [torch.sign(z) * torch.clamp(z.abs() - 1e-4, min=0) for z in zs]
        torch._foreach_copy_(gates, res)
        return sum(int((g != 0).sum()) for g in gates[:1])
    ms = median_ms(gate_step)
    out[f"gate {tensors}x{size}"] = 12.0 * tensors * size / (ms * 1e6)
    big = torch.empty(256 * 1024 * 1024 // 4, device="cuda")
    dst = torch.empty_like(big)
    out["copy bandwidth"] = 2.0 * big.numel() * 4 / (median_ms(lambda: dst.copy_(big)) * 1e6)
    return out


def main():
    suite, mode = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "full"
    try:
        import torch
    except ImportError:
        print("torch is not installed", file=sys.stderr)
        sys.exit(2)
    if not torch.cuda.is_available():
        print("torch sees no CUDA device", file=sys.stderr)
        sys.exit(2)
    quick = mode == "quick"
    result = gpu_suite(quick) if suite == "gpu" else lowrank_suite(quick)
    result["device"] = torch.cuda.get_device_name(0) + ", torch " + torch.__version__
    print(json.dumps(result))


if __name__ == "__main__":
    main()

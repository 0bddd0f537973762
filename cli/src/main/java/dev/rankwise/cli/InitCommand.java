package dev.rankwise.cli;

import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.nn.Init;
import dev.rankwise.nn.Linear;
import dev.rankwise.peft.Method;
import dev.rankwise.peft.PeftFormat;
import dev.rankwise.peft.PeftFormat.LayerKind;
import dev.rankwise.peft.PeftFormat.ModuleAdapter;
import dev.rankwise.peft.SaltLinear;
import dev.rankwise.peft.init.Factors;
import dev.rankwise.peft.init.GradientInit;
import dev.rankwise.peft.init.Lamda;
import dev.rankwise.peft.init.LqLora;
import dev.rankwise.peft.init.Quantizer;
import dev.rankwise.peft.init.SvdInit;
import dev.rankwise.random.Generator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/// `rankwise init METHOD --weight W.npy --rank R …`: initializes an adapter for one weight W [out, in]
/// and writes it in PEFT's layout ([PeftFormat]): `adapter_config.json` and `adapter_model.safetensors`
/// with `base_model.model.<NAME>.lora_A.weight` [R, in] and `….lora_B.weight` [out, R] such that
/// base + s·B·A is what the method promises (s = α/R, α defaulting to R). Methods that replace the base
/// weight also write `base_weight.safetensors` (key `base_model.model.<NAME>.weight`). Methods whose
/// trainable part is not the pair add their own tensors under the same prefix: SVFit and LoLDU
/// `lora_gate` (σ', z) and `lora_B_factor`; LoRA-SB and LaMDA `lora_core` (R, S) and `lora_B_factor`; SALT
/// its `salt_*` tensors beside a zero pair (W' = W at the start, so there is no base weight to replace).
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Initialize an adapter from a weight matrix W [out, in] and write it in PEFT's layout.",
                "Methods: lora, pissa, milora, olora, svfit, salt, lora-ga, lora-sb, loldu, eora, lamda, lq-lora."})
final class InitCommand implements Callable<Integer> {
    static final List<String> METHODS = List.of("lora", "pissa", "milora", "olora", "svfit", "salt", "lora-ga", "lora-sb", "loldu", "eora",
            "lamda", "lq-lora");

    @Parameters(index = "0", paramLabel = "METHOD")
    String method;

    @Option(names = "--weight", required = true, paramLabel = "W.npy", description = "The weight W [out, in] (.npy, F32 or F64).")
    Path weight;

    @Option(names = "--rank", required = true, paramLabel = "R", description = "Rank r (SALT: the number of top singular values adapted).")
    int rank;

    @Option(names = "--alpha", paramLabel = "A", description = "lora_alpha (default: R, so the scale is 1).")
    Double alpha;

    @Option(names = "--niter", paramLabel = "K",
            description = {"PiSSA, LoRA-GA: randomized SVD with K power iterations, -1 for the exact SVD",
                    "(default: exact for PiSSA, as PEFT's init_lora_weights=\"pissa\"; 4 for LoRA-GA, as its authors' code)."})
    Integer niter;

    @Option(names = "--grad", paramLabel = "G.npy", description = "LoRA-GA: the average gradient of W; LoRA-SB: the summed gradient [out, in].")
    Path grad;

    @Option(names = "--activations", paramLabel = "X.npy", description = "EoRA: calibration inputs [N, in].")
    Path activations;

    @Option(names = "--compressed", paramLabel = "Q.npy", description = "EoRA: the compressed weight [out, in].")
    Path compressed;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3",
            description = {"LoRA-SB: the learning rate; ΔŴ = −η·sign(G) with η = LR / warmup steps (default ${DEFAULT-VALUE})."})
    double lr;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "1",
            description = {"LoRA-SB: steps of the linear warmup; η is its first learning rate, LR/N, as in the authors' code",
                    "(default ${DEFAULT-VALUE}: η = LR)."})
    double warmupSteps;

    @Option(names = "--tail-rank", paramLabel = "Q", description = "SALT: rank q of the tail's LoRA (default: R, capped at min(out, in) − R).")
    Integer tailRank;

    @Option(names = "--quantizer", paramLabel = "Q", defaultValue = "nf4",
            description = "LQ-LoRA: nf4, int4, int8 (block-wise absmax, blocks of 64) or none (default ${DEFAULT-VALUE}).")
    String quantizer;

    @Option(names = "--module", paramLabel = "NAME", defaultValue = "layer", description = "Module name in the keys (default ${DEFAULT-VALUE}).")
    String module;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for random parts (lora's A, SALT's X, randomized SVDs).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!METHODS.contains(method)) throw new Main.UsageError("unknown method '" + method + "'; available: " + String.join(", ", METHODS));
        Tensor w = Npy.read(weight);
        if (w.rank() != 2) throw new Main.UsageError("init: " + weight + " holds shape " + Arrays.toString(w.shape()) + ", expected [out, in]");
        if (rank < 1) throw new Main.UsageError("init: --rank must be >= 1");
        double a = alpha != null ? alpha : rank;
        double scale = a / rank;
        Generator gen = new Generator(seed);
        ModuleAdapter adapter;
        Tensor base = null;
        if (method.equals("salt")) {
            adapter = salt(w, gen);
        } else {
            Factors f = factors(w, scale, gen);
            adapter = new ModuleAdapter(LayerKind.LINEAR, f.method(), rank, a, false, f.a(), f.b(), f.gate(), f.core(), null,
                    f.method().frozen(), 0, Map.of());
            base = f.residual();
        }
        PeftFormat.write(out, Map.of(module, adapter), base == null ? Map.of() : Map.of(module, base), 0);
        System.out.printf("%s adapter for %s %s: rank %d, scale %.4g, %d trainable numbers -> %s%s%n", method, module, Arrays.toString(w.shape()),
                rank, adapter.scale(), adapter.trainableCount(), out, base != null ? " (with " + PeftFormat.BASE_WEIGHTS + ")" : "");
        return 0;
    }

    private Factors factors(Tensor w, double scale, Generator gen) throws Exception {
        return switch (method) {
            case "lora" -> new Factors(Init.kaimingUniform(gen, Math.sqrt(5), w.dtype(), rank, w.size(1)), Tensor.zeros(w.dtype(), w.size(0), rank),
                    scale, null);
            case "pissa" -> SvdInit.pissa(w, rank, scale, niter != null ? niter : -1, gen);
            case "milora" -> SvdInit.milora(w, rank, scale);
            case "olora" -> SvdInit.olora(w, rank, scale);
            case "svfit" -> SvdInit.svfit(w, rank, scale);
            case "loldu" -> SvdInit.loldu(w, rank, scale);
            case "lamda" -> Lamda.init(w, rank, scale);
            case "lora-ga" -> GradientInit.loraGa(w, need(grad, "--grad G.npy"), rank, scale, 16.0, niter != null ? niter : 4, gen);
            case "lora-sb" -> GradientInit.loraSb(w, need(grad, "--grad G.npy"), rank, scale, GradientInit.loraSbStepSize(lr, warmupSteps));
            case "eora" -> SvdInit.eora(w, need(compressed, "--compressed Q.npy"), need(activations, "--activations X.npy"), rank, scale);
            case "lq-lora" -> LqLora.decompose(w, rank, quantizer(), LqLora.AUTHORS_MAX_ITERATIONS).factors(scale);
            default -> throw new AssertionError(method);
        };
    }

    private Tensor need(Path file, String option) throws Exception {
        if (file == null) throw new Main.UsageError("init " + method + " needs " + option);
        return Npy.read(file);
    }

    private Quantizer quantizer() {
        return switch (quantizer) {
            case "nf4" -> Quantizer.nf4(64);
            case "int4" -> Quantizer.uniform(4, 64);
            case "int8" -> Quantizer.uniform(8, 64);
            case "none" -> Quantizer.identity();
            default -> throw new Main.UsageError("init lq-lora: unknown --quantizer '" + quantizer + "' (nf4, int4, int8, none)");
        };
    }

    /// SALT: its tensors beside a zero pair of rank R (W' = W at the start).
    private ModuleAdapter salt(Tensor w, Generator gen) {
        int k = Math.min(w.size(0), w.size(1));
        if (rank > k) throw new IllegalArgumentException("salt: rank " + rank + " must be in [1, " + k + "] for a weight of shape " + Arrays.toString(w.shape()));
        int q = rank == k ? 0 : Math.min(tailRank != null ? tailRank : rank, k - rank);
        Linear lin = new Linear(w.size(1), w.size(0), false, gen, w.dtype());
        lin.setParameter("weight", w);
        SaltLinear salt = new SaltLinear(lin, rank, q, gen.derive("salt"));
        return new ModuleAdapter(LayerKind.LINEAR, Method.SALT, rank, alpha != null ? alpha : rank, false, Tensor.zeros(w.dtype(), rank, w.size(1)),
                Tensor.zeros(w.dtype(), w.size(0), rank), null, null, null, Method.SALT.frozen(), 0, salt.tensors());
    }
}

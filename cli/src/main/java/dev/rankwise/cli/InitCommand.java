package dev.rankwise.cli;

import dev.rankwise.Tensor;
import dev.rankwise.io.Npy;
import dev.rankwise.io.SafeTensors;
import dev.rankwise.nn.Init;
import dev.rankwise.peft.PeftFormat;
import dev.rankwise.peft.init.Factors;
import dev.rankwise.peft.init.SvdInit;
import dev.rankwise.random.Generator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/// `rankwise init METHOD --weight W.npy --rank R …`: initializes an adapter for one weight [out, in]
/// and writes it in PEFT's layout; methods that replace the base weight also write
/// `base_weight.safetensors` (key `base_model.model.<NAME>.weight`) so that base + s·B·A is what the
/// method promises.
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Initialize an adapter from a weight matrix and write it in PEFT's layout. Methods: lora, pissa, milora, olora, loldu, lora-ga, eora.")
final class InitCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "METHOD")
    String method;

    @Option(names = "--weight", required = true, paramLabel = "W.npy", description = "The weight W [out, in] (.npy).")
    Path weight;

    @Option(names = "--rank", required = true, paramLabel = "R")
    int rank;

    @Option(names = "--alpha", paramLabel = "A", description = "lora_alpha (default: R, so the scale is 1).")
    Double alpha;

    @Option(names = "--niter", paramLabel = "K", defaultValue = "-1", description = "PiSSA: randomized SVD with K power iterations (default: exact SVD).")
    int niter;

    @Option(names = "--grad", paramLabel = "G.npy", description = "LoRA-GA: the accumulated gradient of W [out, in].")
    Path grad;

    @Option(names = "--activations", paramLabel = "X.npy", description = "EoRA: calibration inputs [N, in].")
    Path activations;

    @Option(names = "--compressed", paramLabel = "Q.npy", description = "EoRA: the compressed weight [out, in].")
    Path compressed;

    @Option(names = "--module", paramLabel = "NAME", defaultValue = "layer", description = "Module name in the keys (default ${DEFAULT-VALUE}).")
    String module;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for random parts (lora, randomized PiSSA).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR")
    Path out;

    @Override
    public Integer call() throws Exception {
        Tensor w = Npy.read(weight);
        if (w.rank() != 2) throw new Main.UsageError("init: " + weight + " holds shape " + java.util.Arrays.toString(w.shape()) + ", expected [out, in]");
        double a = alpha != null ? alpha : rank;
        double scale = a / rank;
        Generator gen = new Generator(seed);
        Map<String, Tensor> extra = new LinkedHashMap<>();
        Factors f = switch (method) {
            case "lora" -> new Factors(Init.kaimingUniform(gen, Math.sqrt(5), w.dtype(), rank, w.size(1)),
                    Tensor.zeros(w.dtype(), w.size(0), rank), scale, null);
            case "pissa" -> SvdInit.pissa(w, rank, scale, niter, gen);
            case "milora" -> SvdInit.milora(w, rank, scale);
            case "olora" -> SvdInit.olora(w, rank, scale);
            case "loldu" -> {
                Factors lf = SvdInit.loldu(w, rank, scale);
                extra.put("loldu_z", dev.rankwise.linalg.Linalg.ldu(w).d().narrow(0, 0, rank).contiguous());
                yield lf;
            }
            case "lora-ga" -> {
                if (grad == null) throw new Main.UsageError("init lora-ga needs --grad G.npy");
                yield SvdInit.loraGa(w, Npy.read(grad), rank, scale, true);
            }
            case "eora" -> {
                if (activations == null || compressed == null) throw new Main.UsageError("init eora needs --activations X.npy and --compressed Q.npy");
                yield SvdInit.eora(w, Npy.read(compressed), Npy.read(activations), rank, scale);
            }
            case "svfit", "salt", "lora-sb" -> throw new Main.UsageError("init " + method + " is not implemented yet; available: lora, pissa, milora, olora, loldu, lora-ga, eora");
            default -> throw new Main.UsageError("unknown method '" + method + "'; available: lora, pissa, milora, olora, loldu, lora-ga, eora");
        };
        PeftFormat.write(out, Map.of(module, new PeftFormat.ModuleAdapter(f.a(), f.b(), f.scale(), null)), false,
                Map.of("init_lora_weights", method.equals("lora") ? "default" : method));
        if (!extra.isEmpty()) {
            Map<String, Tensor> keyed = new LinkedHashMap<>();
            extra.forEach((k, v) -> keyed.put("base_model.model." + module + "." + k, v));
            SafeTensors.write(out.resolve("method_tensors.safetensors"), keyed, Map.of("method", method));
        }
        if (f.residual() != null) {
            SafeTensors.write(out.resolve("base_weight.safetensors"), Map.of("base_model.model." + module + ".weight", f.residual()),
                    Map.of("method", method));
        }
        System.out.printf("%s adapter for %s %s: rank %d, scale %.4g -> %s%s%n", method, module, java.util.Arrays.toString(w.shape()),
                rank, f.scale(), out, f.residual() != null ? " (with base_weight.safetensors)" : "");
        return 0;
    }
}

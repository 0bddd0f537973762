package dev.rankwise.peft;

import java.util.List;

/// One adapter's settings for [Peft#attach], with PEFT's `LoraConfig` names where they exist.
///
/// @param kind          LORA, DORA (magnitude ⊙ direction, arXiv 2402.09353) or SORA (gated, arXiv 2311.11696)
/// @param r             rank (SoRA: r_max)
/// @param alpha         `lora_alpha`; the scale is α/r, or α/√r with rsLoRA (arXiv 2312.03732)
/// @param dropout       dropout on the adapter's input during training
/// @param init          DEFAULT: A Kaiming-uniform (a = √5), B = 0; GAUSSIAN: A normal with standard
///                      deviation 1/r (PEFT's `normal_(std=1/r)`), B = 0. Embeddings ignore it and take
///                      PEFT's A = 0, B ~ N(0, 1)
/// @param targetModules PEFT's `target_modules`: names matched exactly or as a dotted suffix; a single
///                      entry starting with `re:` is a regular expression that must match the whole path
public record LoraConfig(AdapterKind kind, int r, double alpha, boolean rsLora, double dropout, Init init,
                         List<String> targetModules) {
    public enum AdapterKind { LORA, DORA, SORA }

    public enum Init { DEFAULT, GAUSSIAN }

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("LoraConfig: r must be >= 1, got " + r);
        if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("LoraConfig: dropout must be in [0, 1), got " + dropout);
        targetModules = List.copyOf(targetModules);
    }

    /// Plain LoRA with α = r (scale 1), no dropout, default init.
    public static LoraConfig lora(int r, List<String> targets) {
        return new LoraConfig(AdapterKind.LORA, r, r, false, 0, Init.DEFAULT, targets);
    }

    /// SoRA with r_max and α as in the authors' code defaults (α = 16 for r = 8: scale 2).
    public static LoraConfig sora(int rMax, double alpha, List<String> targets) {
        return new LoraConfig(AdapterKind.SORA, rMax, alpha, false, 0, Init.DEFAULT, targets);
    }

    public LoraConfig withKind(AdapterKind k) {
        return new LoraConfig(k, r, alpha, rsLora, dropout, init, targetModules);
    }

    public LoraConfig withAlpha(double a) {
        return new LoraConfig(kind, r, a, rsLora, dropout, init, targetModules);
    }

    public LoraConfig withRsLora(boolean on) {
        return new LoraConfig(kind, r, alpha, on, dropout, init, targetModules);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(kind, r, alpha, rsLora, p, init, targetModules);
    }

    public LoraConfig withInit(Init i) {
        return new LoraConfig(kind, r, alpha, rsLora, dropout, i, targetModules);
    }

    /// The scale s multiplying B·A: α/r, or α/√r with rsLoRA.
    public double scale() {
        return rsLora ? alpha / Math.sqrt(r) : alpha / r;
    }
}

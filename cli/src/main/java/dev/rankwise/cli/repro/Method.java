package dev.rankwise.cli.repro;

/// The methods a reproduction compares, with the labels used in tables and result files.
enum Method {
    /// AdamW on every parameter of the adapted layers (and the head).
    FULL("full fine-tuning"),
    /// LoRA (arXiv 2106.09685) at r_max: A Kaiming-uniform, B = 0.
    LORA_MAX("LoRA r_max"),
    /// LoRA at a small rank, below what the task needs.
    LORA_SMALL("LoRA small r"),
    /// SoRA (arXiv 2311.11696) at r_max with the proximal gate step, pruned after training.
    SORA("SoRA"),
    /// SoRA continued through the sparsifying scheduler's stages (λ raised stage by stage), then pruned.
    SORA_SCHEDULED("SoRA + scheduler"),
    /// PiSSA (arXiv 2404.02948) at r_max: the top-r_max singular triplets train, the residual is frozen.
    PISSA("PiSSA r_max");

    final String label;

    Method(String label) {
        this.label = label;
    }
}

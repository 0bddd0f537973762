package dev.rankwise.kernels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rankwise.kernels.Param.f32;
import static dev.rankwise.kernels.Param.f64;
import static dev.rankwise.kernels.Param.i32;
import static dev.rankwise.kernels.Param.ptr;
import static dev.rankwise.kernels.Param.struct;
import static dev.rankwise.kernels.Param.u64;

/// Every kernel of the PTX modules: module, entry name, parameters in launch order and launch rule.
/// A test checks this list against the `.entry` declarations of the checked-in PTX, both ways, so a
/// kernel cannot change its signature without the launcher's side changing with it.
///
/// Shapes use the letters of the engine: N rows (tokens), d_in, d_out, r (rank).
public final class KernelCatalog {
    private KernelCatalog() {}

    /// Rows per block of the [Geometry#ROW_TILES] kernels (`TILE_ROWS` in lowrank.cu).
    public static final int TILE_ROWS = 32;
    /// Largest rank the fused low-rank kernels take (`MAX_RANK` in lowrank.cu); larger ranks use the
    /// composed path.
    public static final int LOWRANK_MAX_RANK = 64;
    /// Largest sketch width of the CholeskyQR kernels (`MAX_L` in svdinit.cu).
    public static final int CHOLQR_MAX_L = 64;
    /// Elements per block of the multi-tensor optimizer kernels (`CHUNK` in optim.cu).
    public static final int OPTIM_CHUNK = 2048;

    private static final Map<String, Kernel> BY_NAME = new LinkedHashMap<>();

    private static void add(String module, String name, Geometry g, int sharedPerThread, String doc, Param... params) {
        Kernel k = new Kernel(module, name, List.of(params), g, sharedPerThread, doc);
        if (BY_NAME.put(name, k) != null) throw new IllegalStateException("kernel " + name + " listed twice");
    }

    private static final int L = OpCodes.LAYOUT_BYTES, RL = OpCodes.REDUCE_LAYOUT_BYTES;

    static {
        // ---------------------------------------------------------------- elementwise.cu
        add("elementwise", "ew_fill", Geometry.ELEMENTS, 0, "out[i] = value (any dtype, strided)",
                ptr("out"), i32("outType"), struct("layout", L), f64("value"));
        add("elementwise", "ew_copy", Geometry.ELEMENTS, 0, "out[i] = (outType) in[i]; layout operands out, in",
                ptr("out"), i32("outType"), ptr("in"), i32("inType"), struct("layout", L));
        for (String t : new String[] {"f32", "f64"}) {
            add("elementwise", "ew_unary_" + t, Geometry.ELEMENTS, 0, "out = op(x); operands out, x",
                    ptr("out"), ptr("x"), struct("layout", L), i32("op"));
            add("elementwise", "ew_binary_" + t, Geometry.ELEMENTS, 0, "out = op(a, b); operands out, a, b",
                    ptr("out"), ptr("a"), ptr("b"), struct("layout", L), i32("op"));
            add("elementwise", "ew_where_" + t, Geometry.ELEMENTS, 0, "out = cond != 0 ? a : b; operands out, cond, a, b",
                    ptr("out"), ptr("cond"), i32("condType"), ptr("a"), ptr("b"), struct("layout", L));
        }
        // ---------------------------------------------------------------- reduce.cu
        add("reduce", "reduce_block_f32", Geometry.BLOCK_PER_OUTPUT, 8, "out[outer] = op over inner; block per output",
                ptr("out"), ptr("x"), struct("layout", RL), i32("op"));
        add("reduce", "reduce_block_f64", Geometry.BLOCK_PER_OUTPUT, 12, "out[outer] = op over inner; block per output",
                ptr("out"), ptr("x"), struct("layout", RL), i32("op"));
        add("reduce", "reduce_thread_f32", Geometry.ELEMENTS, 0, "out[outer] = op over inner; thread per output",
                ptr("out"), ptr("x"), struct("layout", RL), i32("op"));
        add("reduce", "reduce_thread_f64", Geometry.ELEMENTS, 0, "out[outer] = op over inner; thread per output",
                ptr("out"), ptr("x"), struct("layout", RL), i32("op"));
        add("reduce", "softmax_rows_f32", Geometry.BLOCK_PER_OUTPUT, 4, "y [rows, cols] = (log-)softmax of x along cols",
                ptr("y"), ptr("x"), i32("cols"), i32("log"));
        add("reduce", "softmax_rows_f64", Geometry.BLOCK_PER_OUTPUT, 8, "y [rows, cols] = (log-)softmax of x along cols",
                ptr("y"), ptr("x"), i32("cols"), i32("log"));
        // ---------------------------------------------------------------- index.cu
        add("index", "gather_b32", Geometry.ELEMENTS, 0, "out = x gathered along dim; operands out, index, x (dim stride 0)",
                ptr("out"), ptr("index"), ptr("x"), struct("layout", L), i32("step"));
        add("index", "gather_b64", Geometry.ELEMENTS, 0, "out = x gathered along dim; operands out, index, x (dim stride 0)",
                ptr("out"), ptr("index"), ptr("x"), struct("layout", L), i32("step"));
        add("index", "scatter_add_f32", Geometry.ELEMENTS, 0, "target[.., index, ..] += src; operands target (dim stride 0), index, src",
                ptr("target"), ptr("index"), ptr("src"), struct("layout", L), i32("step"));
        add("index", "scatter_add_f64", Geometry.ELEMENTS, 0, "target[.., index, ..] += src; operands target (dim stride 0), index, src",
                ptr("target"), ptr("index"), ptr("src"), struct("layout", L), i32("step"));
        add("index", "tri_mask_f32", Geometry.ELEMENTS, 0, "in-place triangle mask of a [rows, cols] row-major matrix",
                ptr("a"), i32("rows"), i32("cols"), i32("mode"));
        add("index", "tri_mask_f64", Geometry.ELEMENTS, 0, "in-place triangle mask of a [rows, cols] row-major matrix",
                ptr("a"), i32("rows"), i32("cols"), i32("mode"));
        // ---------------------------------------------------------------- random.cu (work = Philox blocks, ⌈n/4⌉)
        add("random", "philox_fill", Geometry.ELEMENTS, 0, "out [n] = shift + scale · Philox uniform/normal; the CPU's numbers",
                ptr("out"), i32("outType"), i32("n"), u64("seed"), u64("counterOffset"), i32("normal"), f64("shift"), f64("scale"));
        // ---------------------------------------------------------------- lowrank.cu (work = N rows)
        for (String v : new String[] {"lowrank_fwd_f32", "lowrank_fwd_bf16x"}) {
            add("lowrank", v, Geometry.ROW_TILES, 0, "y [N, d_out] += bias + s·((x·Aᵀ)⊙g)·Bᵀ; h = x·Aᵀ [N, r] saved when hOut != 0",
                    ptr("y"), ptr("x"), ptr("A"), ptr("B"), ptr("g"), ptr("bias"), ptr("hOut"), f32("s"), i32("N"), i32("d_in"), i32("d_out"), i32("r"));
        }
        add("lowrank", "lowrank_bwd_f32", Geometry.ROW_TILES, 0, "du = dy·B; u = s·h⊙g, dh = s·du⊙g [N, r]; dg partials [tiles, r]",
                ptr("u"), ptr("dh"), ptr("dgPartial"), ptr("dy"), ptr("B"), ptr("g"), ptr("h"), f32("s"), i32("N"), i32("d_out"), i32("r"));
        // ---------------------------------------------------------------- svdinit.cu
        for (String t : new String[] {"f32", "f64"}) {
            add("svdinit", "cholqr_gram_" + t, Geometry.BLOCK_PER_ITEM, 0, "G [batch, l, l] (F64) = Yᵀ·Y; work = batch",
                    ptr("G"), ptr("Y"), i32("m"), i32("l"));
            add("svdinit", "cholqr_apply_" + t, Geometry.ELEMENTS, 0, "Y [batch, m, l] ← Y·R⁻¹; work = batch·m rows",
                    ptr("Y"), ptr("R"), i32("m"), i32("l"), i32("batch"));
            add("svdinit", "svd_split_" + t, Geometry.ELEMENTS, 0, "B = U_r·√(S_r/s), A = √(S_r/s)·Vh_r; work = batch·(m·r + r·n)",
                    ptr("B"), ptr("A"), ptr("U"), ptr("S"), ptr("Vh"), i32("m"), i32("n"), i32("q"), i32("r"), i32("first"), f64("invScale"), i32("batch"));
        }
        add("svdinit", "cholqr_factor", Geometry.BLOCK_PER_ITEM, 0, "G [batch, l, l] ← R upper, RᵀR = G (+ shift); info [batch]; work = batch",
                ptr("G"), ptr("info"), i32("m"), i32("l"), i32("shifted"));
        // ---------------------------------------------------------------- optim.cu (work = chunks)
        add("optim", "adamw_multi_f32", Geometry.BLOCK_PER_ITEM, 0, "AdamW over a tensor table, one block per chunk",
                ptr("table"), ptr("chunks"), f32("decay"), f32("beta1"), f32("oneMinusBeta1"), f32("beta2"), f32("oneMinusBeta2"),
                f32("bc2"), f32("eps"), f32("lrOverBc1"));
        add("optim", "sora_gate_multi_f32", Geometry.BLOCK_PER_ITEM, 0, "SoRA gate step (proximal or authors' Adam+threshold) with non-zero counts",
                ptr("table"), ptr("chunks"), ptr("nnz"), i32("rule"), f32("lr"), f32("xi"), f32("beta1"), f32("oneMinusBeta1"), f32("beta2"),
                f32("oneMinusBeta2"), f32("eps"), f32("step"));
    }

    /// The kernel named `name`, or an exception naming it.
    public static Kernel get(String name) {
        Kernel k = BY_NAME.get(name);
        if (k == null) throw new IllegalArgumentException("kernels: no kernel named '" + name + "' in the catalog");
        return k;
    }

    /// All kernels, in catalog order.
    public static List<Kernel> all() {
        return List.copyOf(BY_NAME.values());
    }

    /// The modules (PTX resources) the catalog names.
    public static List<String> modules() {
        List<String> m = new ArrayList<>();
        for (Kernel k : BY_NAME.values()) if (!m.contains(k.module())) m.add(k.module());
        return m;
    }
}

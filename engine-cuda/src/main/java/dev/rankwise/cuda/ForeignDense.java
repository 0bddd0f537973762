package dev.rankwise.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/// [DenseLibrary] through `java.lang.foreign` on cuBLAS's and cuSOLVER's C functions: for machines
/// with CUDA 13 libraries (`libcublas.so.13`, `libcusolver.so.12`), which JCuda 12.6 cannot load; it
/// also accepts the CUDA 12 pair. The libraries are looked up by soname (the loader's path), then in
/// `RANKWISE_CUDA_LIB_DIR` (colon-separated) and the toolkit's usual `lib64` folders.
final class ForeignDense implements DenseLibrary {
    /// The library pairs tried, newest first: {cuBLAS, cuSOLVER}.
    static final String[][] PAIRS = {{"libcublas.so.13", "libcusolver.so.12"}, {"libcublas.so.12", "libcusolver.so.11"}};

    /// Every C function this binding calls, by library: checked when the libraries open, so a
    /// missing one is reported at once, by name, instead of in the middle of a computation.
    static final List<String> CUBLAS_SYMBOLS = List.of("cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasGetVersion_v2",
            "cublasSetMathMode", "cublasSgemmStridedBatched", "cublasDgemmStridedBatched", "cublasStrsm_v2", "cublasDtrsm_v2");
    static final List<String> CUSOLVER_SYMBOLS;

    static {
        List<String> s = new ArrayList<>(List.of("cusolverDnCreate", "cusolverDnDestroy", "cusolverDnSetStream", "cusolverGetVersion",
                "cusolverDnCreateGesvdjInfo", "cusolverDnDestroyGesvdjInfo"));
        for (String t : new String[] {"S", "D"}) {
            for (String r : new String[] {"gesvdj", "gesvd", "syevd", "geqrf", "orgqr", "getrf", "potrf"}) {
                s.add("cusolverDn" + t + r);
                s.add("cusolverDn" + t + r + "_bufferSize");
            }
        }
        CUSOLVER_SYMBOLS = List.copyOf(s);
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private final SymbolLookup cublas, cusolver;
    private final String cublasName, cusolverName;
    private final Map<String, MethodHandle> handles = new ConcurrentHashMap<>();
    private final MemorySegment blas, solver, svdjParams;
    private final String description;

    /// The opened pair of libraries and the names they were found under.
    record Libraries(SymbolLookup cublas, String cublasName, SymbolLookup cusolver, String cusolverName) {
        /// The newest pair of [#PAIRS] that loads, or an exception naming what was tried.
        static Libraries open() {
            List<String> tried = new ArrayList<>();
            for (String[] pair : PAIRS) {
                try {
                    return new Libraries(load(pair[0]), pair[0], load(pair[1]), pair[1]);
                } catch (IllegalArgumentException e) {
                    tried.add(pair[0] + " + " + pair[1] + ": " + e.getMessage());
                }
            }
            throw new CudaException("no cuBLAS/cuSOLVER pair could be loaded (" + String.join("; ", tried) + ")");
        }
    }

    ForeignDense(CudaDevice device) {
        this(Libraries.open(), enter(device));
    }

    private static long enter(CudaDevice device) {
        device.enter();
        return device.stream.address();
    }

    /// Creates the handles on the current device's context and binds them to `stream` (a CUstream).
    ForeignDense(Libraries libs, long stream) {
        cublas = libs.cublas();
        cusolver = libs.cusolver();
        cublasName = libs.cublasName();
        cusolverName = libs.cusolverName();
        List<String> missing = new ArrayList<>();
        for (String sym : CUBLAS_SYMBOLS) if (cublas.find(sym).isEmpty()) missing.add(sym + " (" + cublasName + ")");
        for (String sym : CUSOLVER_SYMBOLS) if (cusolver.find(sym).isEmpty()) missing.add(sym + " (" + cusolverName + ")");
        if (!missing.isEmpty()) throw new CudaException("cuBLAS/cuSOLVER functions not exported: " + String.join(", ", missing));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(ADDRESS);
            status(true, "cublasCreate_v2", "P", h);
            blas = h.get(ADDRESS, 0);
            status(true, "cublasSetStream_v2", "PP", blas, stream);
            status(false, "cusolverDnCreate", "P", h);
            solver = h.get(ADDRESS, 0);
            status(false, "cusolverDnSetStream", "PP", solver, stream);
            status(false, "cusolverDnCreateGesvdjInfo", "P", h);
            svdjParams = h.get(ADDRESS, 0);
            MemorySegment v = a.allocate(JAVA_INT);
            status(true, "cublasGetVersion_v2", "PP", blas, v);
            String bv = cublasVersion(v.get(JAVA_INT, 0));
            status(false, "cusolverGetVersion", "P", v);
            String sv = cusolverVersion(v.get(JAVA_INT, 0));
            description = "java.lang.foreign binding: " + cublasName + " (cuBLAS " + bv + "), " + cusolverName + " (cuSOLVER " + sv + ")";
        }
    }

    static String cublasVersion(int v) {
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    static String cusolverVersion(int v) {
        return (v / 1000) + "." + (v / 100 % 10) + "." + (v % 100);
    }

    /// The library by soname, or from the extra and usual folders.
    private static SymbolLookup load(String soname) {
        List<Path> candidates = new ArrayList<>();
        String extra = System.getenv("RANKWISE_CUDA_LIB_DIR");
        if (extra != null) for (String d : extra.split(":")) if (!d.isBlank()) candidates.add(Path.of(d, soname));
        try {
            return SymbolLookup.libraryLookup(soname, Arena.global());
        } catch (IllegalArgumentException notOnLoaderPath) {
            // try the folders below
        }
        candidates.add(Path.of("/usr/local/cuda/lib64", soname));
        candidates.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib", soname));
        try (var dirs = Files.newDirectoryStream(Path.of("/usr/local"), "cuda-*")) {
            for (Path d : dirs) candidates.add(d.resolve("lib64").resolve(soname));
        } catch (Exception ignored) {
            // no toolkit folders
        }
        for (Path p : candidates) {
            if (Files.exists(p)) return SymbolLookup.libraryLookup(p, Arena.global());
        }
        throw new IllegalArgumentException(soname + " not found on the loader path, in RANKWISE_CUDA_LIB_DIR or /usr/local/cuda*/lib64");
    }

    /// Calls `symbol` with a signature of P (pointer), I (int), J (long), B (signed char) letters,
    /// returning int, and checks the status. Long arguments in P positions are device addresses.
    private void status(boolean isBlas, String symbol, String sig, Object... args) {
        int rc = call(isBlas, symbol, sig, args);
        if (rc != 0) throw new CudaException(symbol + " failed with status " + rc + " (" + (isBlas ? cublasName : cusolverName) + ")");
    }

    private int call(boolean isBlas, String symbol, String sig, Object... args) {
        MethodHandle h = handles.computeIfAbsent(symbol, k -> {
            MemoryLayout[] ls = new MemoryLayout[sig.length()];
            for (int i = 0; i < ls.length; i++) {
                ls[i] = switch (sig.charAt(i)) {
                    case 'P' -> ADDRESS;
                    case 'I' -> JAVA_INT;
                    case 'J' -> ValueLayout.JAVA_LONG;
                    case 'B' -> ValueLayout.JAVA_BYTE;
                    default -> throw new IllegalArgumentException("signature letter " + sig.charAt(i));
                };
            }
            MemorySegment fn = (isBlas ? cublas : cusolver).find(symbol).orElseThrow(() ->
                    new CudaException(symbol + " is not exported by " + (isBlas ? cublasName : cusolverName)));
            return LINKER.downcallHandle(fn, FunctionDescriptor.of(JAVA_INT, ls));
        });
        Object[] a = args.clone();
        for (int i = 0; i < a.length; i++) if (sig.charAt(i) == 'P' && a[i] instanceof Long addr) a[i] = MemorySegment.ofAddress(addr);
        try {
            return (int) h.invokeWithArguments(a);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(symbol + ": " + t, t);
        }
    }

    private static char t(boolean f64) {
        return f64 ? 'D' : 'S';
    }

    private static MemorySegment scalar(Arena a, boolean f64, double v) {
        return f64 ? a.allocateFrom(ValueLayout.JAVA_DOUBLE, v) : a.allocateFrom(ValueLayout.JAVA_FLOAT, (float) v);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void setTf32(boolean on) {
        status(true, "cublasSetMathMode", "PI", blas, on ? 3 : 0);
    }

    @Override
    public void gemmStridedBatched(boolean f64, boolean transA, boolean transB, int m, int n, int k, double alpha,
                                   long a, int lda, long strideA, long b, int ldb, long strideB, double beta, long c, int ldc, long strideC, int batch) {
        try (Arena ar = Arena.ofConfined()) {
            status(true, "cublas" + t(f64) + "gemmStridedBatched", "PIIIIIPPIJPIJPPIJI", blas, transA ? 1 : 0, transB ? 1 : 0, m, n, k,
                    scalar(ar, f64, alpha), a, lda, strideA, b, ldb, strideB, scalar(ar, f64, beta), c, ldc, strideC, batch);
        }
    }

    @Override
    public void trsm(boolean f64, boolean right, boolean upper, boolean transA, boolean unitDiag, int m, int n, double alpha, long a, int lda, long b, int ldb) {
        try (Arena ar = Arena.ofConfined()) {
            status(true, "cublas" + t(f64) + "trsm_v2", "PIIIIIIPPIPI", blas, right ? 1 : 0, upper ? 1 : 0, transA ? 1 : 0, unitDiag ? 1 : 0,
                    m, n, scalar(ar, f64, alpha), a, lda, b, ldb);
        }
    }

    /// Runs `<routine>_bufferSize` with `sig` and the arguments plus an int* for lwork.
    private int bufferSize(String routine, String sig, Object... args) {
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment lwork = ar.allocate(JAVA_INT);
            Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
            all[args.length] = lwork;
            status(false, routine + "_bufferSize", sig + "P", all);
            return lwork.get(JAVA_INT, 0);
        }
    }

    @Override
    public int gesvdj(boolean f64, boolean vectors, int m, int n, long a, int lda, long s, long u, int ldu, long v, int ldv, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "gesvdj";
        int jobz = vectors ? 1 : 0;
        int lwork;
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment lw = ar.allocate(JAVA_INT);
            status(false, r + "_bufferSize", "PIIIIPIPPIPIPP", solver, jobz, 1, m, n, a, lda, s, u, ldu, v, ldv, lw, svdjParams);
            lwork = lw.get(JAVA_INT, 0);
        }
        status(false, r, "PIIIIPIPPIPIPIPP", solver, jobz, 1, m, n, a, lda, s, u, ldu, v, ldv, ws.work(lwork), lwork, ws.info(), svdjParams);
        return ws.readInfo();
    }

    @Override
    public int gesvd(boolean f64, char jobu, char jobvt, int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "gesvd";
        int lwork = bufferSize(r, "PII", solver, m, n);
        long rwork = ws.work(Math.max(1, Math.min(m, n)));
        status(false, r, "PBBIIPIPPIPIPIPP", solver, (byte) jobu, (byte) jobvt, m, n, a, lda, s, u, ldu, vt, ldvt, ws.work(lwork), lwork, rwork, ws.info());
        return ws.readInfo();
    }

    @Override
    public int syevd(boolean f64, boolean vectors, int n, long a, int lda, long w, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "syevd";
        int jobz = vectors ? 1 : 0;
        int lwork = bufferSize(r, "PIIIPIP", solver, jobz, 0, n, a, lda, w);
        status(false, r, "PIIIPIPPIP", solver, jobz, 0, n, a, lda, w, ws.work(lwork), lwork, ws.info());
        return ws.readInfo();
    }

    @Override
    public int geqrf(boolean f64, int m, int n, long a, int lda, long tau, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "geqrf";
        int lwork = bufferSize(r, "PIIPI", solver, m, n, a, lda);
        status(false, r, "PIIPIPPIP", solver, m, n, a, lda, tau, ws.work(lwork), lwork, ws.info());
        return ws.readInfo();
    }

    @Override
    public int orgqr(boolean f64, int m, int n, int k, long a, int lda, long tau, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "orgqr";
        int lwork = bufferSize(r, "PIIIPIP", solver, m, n, k, a, lda, tau);
        status(false, r, "PIIIPIPPIP", solver, m, n, k, a, lda, tau, ws.work(lwork), lwork, ws.info());
        return ws.readInfo();
    }

    @Override
    public int getrf(boolean f64, int m, int n, long a, int lda, long ipiv, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "getrf";
        int lwork = bufferSize(r, "PIIPI", solver, m, n, a, lda);
        status(false, r, "PIIPIPPP", solver, m, n, a, lda, ws.work(lwork), ipiv, ws.info());
        return ws.readInfo();
    }

    @Override
    public int potrf(boolean f64, boolean upper, int n, long a, int lda, Workspace ws) {
        String r = "cusolverDn" + t(f64) + "potrf";
        int fill = upper ? 1 : 0;
        int lwork = bufferSize(r, "PIIPI", solver, fill, n, a, lda);
        status(false, r, "PIIPIPIP", solver, fill, n, a, lda, ws.work(lwork), lwork, ws.info());
        return ws.readInfo();
    }

    @Override
    public void close() {
        call(false, "cusolverDnDestroyGesvdjInfo", "P", svdjParams);
        call(false, "cusolverDnDestroy", "P", solver);
        call(true, "cublasDestroy_v2", "P", blas);
    }
}

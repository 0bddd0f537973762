package dev.rankwise.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The `java.lang.foreign` binding of cuBLAS/cuSOLVER against stand-ins built from
/// `dense_stub.c`, whose functions are declared as `cublas_api.h` and `cusolverDn.h` declare
/// them and log the arguments they receive. Checks, without a GPU, what no compiler checks for a
/// downcall: the symbol names, the argument order, scalars passed by pointer in the routine's
/// precision (host pointer mode), 64-bit strides, the enum values (CUBLAS_OP_T = 1,
/// CUBLAS_SIDE_RIGHT = 1, CUBLAS_FILL_MODE_LOWER = 0 / UPPER = 1, CUBLAS_DIAG_UNIT = 1,
/// CUSOLVER_EIG_MODE_VECTOR = 1, CUBLAS_TF32_TENSOR_OP_MATH = 3), and that each workspace is
/// sized by its own `_bufferSize` answer. Skips where no C compiler is on the PATH.
class ForeignDenseStubTest {
    private static SymbolLookup blas, solver;

    @BeforeAll
    static void buildStubs(@TempDir Path dir) throws Exception {
        String cc = null;
        for (String c : new String[] {"cc", "gcc", "clang"}) {
            if (run(List.of("sh", "-c", "command -v " + c), dir)) {
                cc = c;
                break;
            }
        }
        Assumptions.assumeTrue(cc != null, "no C compiler (cc, gcc, clang) on the PATH: cuBLAS/cuSOLVER stand-ins not built");
        Path src = dir.resolve("dense_stub.c");
        try (InputStream in = ForeignDenseStubTest.class.getResourceAsStream("dense_stub.c")) {
            Files.write(src, in.readAllBytes());
        }
        Path b = dir.resolve("libstub_cublas.so"), s = dir.resolve("libstub_cusolver.so");
        assertTrue(run(List.of(cc, "-shared", "-fPIC", "-O1", "-DPART_BLAS", src.toString(), "-o", b.toString()), dir), "building the cuBLAS stand-in");
        assertTrue(run(List.of(cc, "-shared", "-fPIC", "-O1", "-DPART_SOLVER", src.toString(), "-o", s.toString()), dir), "building the cuSOLVER stand-in");
        blas = SymbolLookup.libraryLookup(b, Arena.global());
        solver = SymbolLookup.libraryLookup(s, Arena.global());
    }

    /// Workspaces at made-up addresses, remembering the sizes asked for.
    private static final class FakeWorkspace implements DenseLibrary.Workspace {
        final List<Long> sizes = new ArrayList<>();

        @Override
        public long work(long elements) {
            sizes.add(elements);
            return 0x7000L + 0x100L * sizes.size();
        }

        @Override
        public long info() {
            return 0x1F0;
        }

        @Override
        public int readInfo() {
            return 0;
        }
    }

    /// What the stand-in library logged since its last reset, then resets it.
    private static String log(SymbolLookup lib) throws Throwable {
        Linker l = Linker.nativeLinker();
        MemorySegment text = (MemorySegment) l.downcallHandle(lib.find("stub_log").orElseThrow(), FunctionDescriptor.of(ADDRESS)).invoke();
        String s = text.reinterpret(1 << 16).getString(0);
        l.downcallHandle(lib.find("stub_reset").orElseThrow(), FunctionDescriptor.ofVoid()).invoke();
        return s;
    }

    @Test
    void everyCallReachesCWithTheHeadersArguments() throws Throwable {
        log(blas);
        log(solver);
        ForeignDense d = new ForeignDense(new ForeignDense.Libraries(blas, "libstub_cublas.so", solver, "libstub_cusolver.so"), 0x57EA);
        // Handles made on the current context, both bound to the device's stream; versions decoded.
        assertEquals("cublasCreate_v2\ncublasSetStream_v2 b1a5 57ea\ncublasGetVersion_v2 b1a5\n", log(blas));
        assertEquals("cusolverDnCreate\ncusolverDnSetStream 5017 57ea\ncusolverDnCreateGesvdjInfo\ncusolverGetVersion\n", log(solver));
        assertTrue(d.description().contains("cuBLAS 13.1.2") && d.description().contains("cuSOLVER 12.0.4"), d.description());

        // F32 GEMM: op(A) = T, op(B) = N, alpha/beta as float*, strides as long long (one above 2^32).
        d.gemmStridedBatched(false, true, false, 3, 4, 5, 1.5, 0xA0, 7, 5_000_000_000L, 0xB0, 8, 40, 0.25, 0xC0, 9, 36, 2);
        // F64 GEMM: alpha 1e-100 survives only as a double.
        d.gemmStridedBatched(true, false, true, 6, 2, 1, 1e-100, 0xA1, 6, 0, 0xB1, 2, 2, -2, 0xC1, 6, 12, 1);
        // Triangular solve: right side, lower, transposed, unit diagonal.
        d.trsm(true, true, false, true, true, 6, 7, 2.0, 0xA2, 11, 0xB2, 12);
        d.setTf32(true);
        assertEquals("""
                cublasSgemmStridedBatched b1a5 1 0 3 4 5 1.5 a0 7 5000000000 b0 8 40 0.25 c0 9 36 2
                cublasDgemmStridedBatched b1a5 0 1 6 2 1 1e-100 a1 6 0 b1 2 2 -2 c1 6 12 1
                cublasDtrsm_v2 b1a5 1 0 1 1 6 7 2 a2 11 b2 12
                cublasSetMathMode b1a5 3
                """, log(blas));

        FakeWorkspace ws = new FakeWorkspace();
        d.gesvdj(false, true, 5, 3, 0xA3, 5, 0xA4, 0xA5, 5, 0xA6, 3, ws);
        d.gesvd(true, 'S', 'N', 6, 4, 0xA7, 6, 0xA8, 0xA9, 6, 0xAA, 4, ws);
        d.syevd(false, true, 8, 0xAB, 8, 0xAC, ws);
        d.geqrf(true, 9, 4, 0xAD, 9, 0xAE, ws);
        d.orgqr(false, 9, 4, 4, 0xAD, 9, 0xAE, ws);
        d.getrf(true, 5, 6, 0xAF, 5, 0xB3, ws);
        d.potrf(false, true, 7, 0xB4, 7, ws);
        // gesvd asks for its rwork (min(m, n) = 4) before its workspace.
        assertEquals(List.of(101L, 4L, 202L, 103L, 204L, 105L, 206L, 107L), ws.sizes);
        assertEquals("""
                cusolverDnSgesvdj_bufferSize 5017 1 1 5 3 a3 5 a4 a5 5 a6 3 5df
                cusolverDnSgesvdj 5017 1 1 5 3 a3 5 a4 a5 5 a6 3 7100 101 1f0 5df
                cusolverDnDgesvd_bufferSize 5017 6 4
                cusolverDnDgesvd 5017 S N 6 4 a7 6 a8 a9 6 aa 4 7300 202 7200 1f0
                cusolverDnSsyevd_bufferSize 5017 1 0 8 ab 8 ac
                cusolverDnSsyevd 5017 1 0 8 ab 8 ac 7400 103 1f0
                cusolverDnDgeqrf_bufferSize 5017 9 4 ad 9
                cusolverDnDgeqrf 5017 9 4 ad 9 ae 7500 204 1f0
                cusolverDnSorgqr_bufferSize 5017 9 4 4 ad 9 ae
                cusolverDnSorgqr 5017 9 4 4 ad 9 ae 7600 105 1f0
                cusolverDnDgetrf_bufferSize 5017 5 6 af 5
                cusolverDnDgetrf 5017 5 6 af 5 7700 b3 1f0
                cusolverDnSpotrf_bufferSize 5017 1 7 b4 7
                cusolverDnSpotrf 5017 1 7 b4 7 7800 107 1f0
                """, log(solver));

        d.close();
        assertEquals("cublasDestroy_v2 b1a5\n", log(blas));
        assertEquals("cusolverDnDestroyGesvdjInfo 5df\ncusolverDnDestroy 5017\n", log(solver));
    }

    @Test
    void aMissingFunctionIsNamedWhenTheLibrariesOpen() {
        // The cuBLAS stand-in offered as cuSOLVER: every solver function is missing, named.
        CudaException e = assertThrows(CudaException.class,
                () -> new ForeignDense(new ForeignDense.Libraries(blas, "libstub_cublas.so", blas, "not-cusolver.so"), 1));
        assertTrue(e.getMessage().contains("cusolverDnSgesvdj (not-cusolver.so)") && e.getMessage().contains("cusolverDnDpotrf_bufferSize"), e.getMessage());
    }

    /// Runs a command; true when it exits with 0.
    private static boolean run(List<String> cmd, Path dir) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return false;
        }
        return p.exitValue() == 0;
    }
}

package dev.rankwise.cpu.gemm;

/// Speed of the GEMM micro-kernel alone, with its packed A and B micro-panels and its C tile in L1: the
/// ceiling for the whole product, which adds packing and the trips of A, B and C through L2 and L3.
/// Not a test and not a benchmark goal (those are `bench gemm`); a diagnostic to compare with the
/// machine's FMA peak (2 FMAs per cycle × lanes × 2 flops). Run after `mvn -pl engine-cpu-vector
/// test-compile`:
///
/// ```
/// java --add-modules jdk.incubator.vector \
///   -cp engine-cpu-vector/target/test-classes:engine-cpu-vector/target/classes dev.rankwise.cpu.gemm.KernelInL1
/// ```
public final class KernelInL1 {
    private KernelInL1() {}

    public static void main(String[] args) {
        int reps = 200_000;
        float[] af = new float[GemmF32.MR * GemmF32.KC], bf = new float[GemmF32.NR * GemmF32.KC];
        float[] cf = new float[GemmF32.MR * GemmF32.NR];
        double[] ad = new double[GemmF64.MR * GemmF64.KC], bd = new double[GemmF64.NR * GemmF64.KC];
        double[] cd = new double[GemmF64.MR * GemmF64.NR];
        for (int i = 0; i < af.length; i++) af[i] = 1e-3f * (i % 7);
        for (int i = 0; i < bf.length; i++) bf[i] = 1e-3f * (i % 5);
        for (int i = 0; i < ad.length; i++) ad[i] = 1e-3 * (i % 7);
        for (int i = 0; i < bd.length; i++) bd[i] = 1e-3 * (i % 5);
        for (int round = 0; round < 5; round++) {   // the first rounds include the JIT's work
            long t = System.nanoTime();
            for (int r = 0; r < reps; r++) GemmF32.kernel(GemmF32.KC, af, 0, bf, 0, cf, 0, GemmF32.NR, 1f, 1f);
            double f32 = 2.0 * GemmF32.MR * GemmF32.NR * GemmF32.KC * reps / (System.nanoTime() - t);
            t = System.nanoTime();
            for (int r = 0; r < reps; r++) GemmF64.kernel(GemmF64.KC, ad, 0, bd, 0, cd, 0, GemmF64.NR, 1, 1);
            double f64 = 2.0 * GemmF64.MR * GemmF64.NR * GemmF64.KC * reps / (System.nanoTime() - t);
            System.out.printf("round %d: F32 %dx%d tile, KC %d: %.1f GFLOP/s   F64 %dx%d tile, KC %d: %.1f GFLOP/s%n",
                    round, GemmF32.MR, GemmF32.NR, GemmF32.KC, f32, GemmF64.MR, GemmF64.NR, GemmF64.KC, f64);
        }
        if (cf[0] + cd[0] == 42) System.out.println();    // keeps the results alive
    }
}

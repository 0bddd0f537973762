package dev.rankwise.cuda;

/// Opens the [DenseLibrary] binding that loads on this machine: JCuda's (CUDA 12 libraries) first,
/// then `java.lang.foreign` (CUDA 13, or 12). `-Drankwise.cuda.dense=jcuda|foreign` forces one.
final class DenseLibraries {
    private DenseLibraries() {}

    static DenseLibrary open(CudaDevice device) {
        String forced = System.getProperty("rankwise.cuda.dense", "");
        StringBuilder why = new StringBuilder();
        if (!forced.equals("foreign")) {
            try {
                return new JCudaDense(device);
            } catch (RuntimeException | LinkageError e) {
                why.append("jcuda binding: ").append(e.getMessage());
            }
        }
        if (!forced.equals("jcuda")) {
            try {
                return new ForeignDense(device);
            } catch (RuntimeException | LinkageError e) {
                why.append(why.isEmpty() ? "" : "; ").append("java.lang.foreign binding: ").append(e.getMessage());
            }
        }
        throw new CudaException(why.toString());
    }
}

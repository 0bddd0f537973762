package dev.rankwise.cli.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/// Fashion-MNIST in the IDX format of its distribution (and Debian's `dataset-fashion-mnist`, which
/// installs the gzipped files in `/usr/share/datasets/fashion-mnist`).
public final class FashionMnist {
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String[] CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot"};

    /// N images of 28×28 pixels in [0, 1], row-major, and their labels 0–9.
    public record Split(float[] images, int[] labels, int count) {}

    private FashionMnist() {}

    /// The four files of the distribution, each optionally gzipped.
    public static final List<String> FILES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    /// The directory holding the four files: `explicit` (from `--data`) when given — an error naming the
    /// missing files when it lacks any — else the first of `search` that has them all, else null.
    public static Path locate(Path explicit, List<Path> search) throws IOException {
        if (explicit != null) {
            List<String> missing = missing(explicit);
            if (!missing.isEmpty()) {
                throw new IOException("Fashion-MNIST: --data " + explicit + " lacks " + String.join(", ", missing)
                        + " (each may be gzipped, ending in .gz)");
            }
            return explicit;
        }
        for (Path dir : search) if (missing(dir).isEmpty()) return dir;
        return null;
    }

    public static String howToGet() {
        return "Fashion-MNIST not found. On Debian or Ubuntu: `sudo apt-get install dataset-fashion-mnist` (or `./rankwise setup-data`), "
                + "which puts the files in " + DEBIAN_DIR + "; elsewhere download the four IDX files (" + String.join(", ", FILES)
                + ", gzipped or not) from https://github.com/zalandoresearch/fashion-mnist and pass --data DIR.";
    }

    /// The files of [#FILES] that `dir` lacks (all of them when it is not a directory).
    static List<String> missing(Path dir) {
        List<String> out = new ArrayList<>();
        for (String f : FILES) if (find(dir, f) == null) out.add(f);
        return out;
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    public static Split train(Path dir) throws IOException {
        return load(dir, "train");
    }

    public static Split test(Path dir) throws IOException {
        return load(dir, "t10k");
    }

    static Split load(Path dir, String prefix) throws IOException {
        Path images = find(dir, prefix + "-images-idx3-ubyte"), labels = find(dir, prefix + "-labels-idx1-ubyte");
        if (images == null || labels == null) throw new IOException("Fashion-MNIST: " + prefix + " files missing in " + dir);
        float[] img = readImages(images);
        int[] lab = readLabels(labels);
        if (img.length != lab.length * 28 * 28) {
            throw new IOException("Fashion-MNIST: " + images.getFileName() + " holds " + img.length / 784 + " images but "
                    + labels.getFileName() + " holds " + lab.length + " labels");
        }
        return new Split(img, lab, lab.length);
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        if (file.getFileName().toString().endsWith(".gz")) in = new GZIPInputStream(in, 1 << 16);
        return new DataInputStream(in);
    }

    /// Images of an IDX3 file (magic 0x00000803) as floats in [0, 1].
    public static float[] readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x803) throw new IOException(file + ": not an IDX image file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
            int n = in.readInt(), rows = in.readInt(), cols = in.readInt();
            if (n < 0 || rows != 28 || cols != 28) throw new IOException(file + ": expected N×28×28 images, header says " + n + "×" + rows + "×" + cols);
            byte[] raw = new byte[n * rows * cols];
            in.readFully(raw);
            float[] out = new float[raw.length];
            for (int i = 0; i < raw.length; i++) out[i] = (raw[i] & 0xFF) / 255f;
            return out;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated (the header promises more images than the file holds)", e);
        }
    }

    /// Labels of an IDX1 file (magic 0x00000801).
    public static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x801) throw new IOException(file + ": not an IDX label file (magic 0x" + Integer.toHexString(magic) + ", expected 0x801)");
            int n = in.readInt();
            if (n < 0) throw new IOException(file + ": negative label count " + n);
            byte[] raw = new byte[n];
            in.readFully(raw);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = raw[i] & 0xFF;
                if (out[i] > 9) throw new IOException(file + ": label " + out[i] + " at index " + i + " is not a class 0–9");
            }
            return out;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated (the header promises more labels than the file holds)", e);
        }
    }
}

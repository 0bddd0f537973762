package dev.rankwise.io;

import dev.rankwise.DType;
import dev.rankwise.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// NumPy's `.npy` format (versions 1–3): magic `\x93NUMPY`, version, header length, a Python-literal
/// dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded to 64 bytes, then the data.
///
/// Reads `<f4`, `<f8`, `<f2` (to F32), `<i4` and `<i8` (to I32, range-checked), little-endian; C order,
/// or Fortran order by transposing. The data is memory-mapped, not read into the heap first. A header
/// that is malformed, names another dtype or promises more or fewer bytes than the file holds is a
/// [MalformedFileException] naming the file. Writes F32, F64 and I32 as version 1.0, atomically.
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    private static final int MAX_HEADER = 1 << 20;

    private Npy() {}

    public static Tensor read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 10) throw new MalformedFileException(file, "truncated: too short for an .npy header");
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            pre.limit((int) Math.min(12, size));
            while (pre.hasRemaining()) if (ch.read(pre, pre.position()) < 0) break;
            for (int k = 0; k < 6; k++) if (pre.get(k) != MAGIC[k]) throw new MalformedFileException(file, "not an .npy file (bad magic)");
            int major = pre.get(6);
            long headerLen;
            int start;
            if (major == 1) {
                headerLen = pre.getShort(8) & 0xFFFF;
                start = 10;
            } else if (major == 2 || major == 3) {
                if (size < 12) throw new MalformedFileException(file, "truncated header");
                headerLen = pre.getInt(8) & 0xFFFFFFFFL;
                start = 12;
            } else {
                throw new MalformedFileException(file, "unsupported .npy version " + major);
            }
            if (headerLen > MAX_HEADER || start + headerLen > size) {
                throw new MalformedFileException(file, "header length " + headerLen + " runs past the end of the " + size + "-byte file");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            while (hb.hasRemaining()) if (ch.read(hb, start + hb.position()) < 0) throw new MalformedFileException(file, "truncated header");
            String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
            if (!d.find() || !f.find() || !s.find()) {
                throw new MalformedFileException(file, "header lacks descr, fortran_order or shape: " + header.trim());
            }
            String descr = d.group(1);
            boolean fortran = f.group(1).equals("True");
            int[] shape = parseShape(file, s.group(1));
            int size1 = switch (descr) {
                case "<f4", "<i4" -> 4;
                case "<f8", "<i8" -> 8;
                case "<f2" -> 2;
                default -> throw new MalformedFileException(file, "unsupported dtype '" + descr + "' (supported: <f4, <f8, <f2, <i4, <i8)");
            };
            long numel = 1;
            for (int dim : shape) numel = dim == 0 || numel == 0 ? 0 : numel > Long.MAX_VALUE / 8 / dim ? -1 : numel * dim;
            long dataStart = start + headerLen;
            if (numel < 0 || size - dataStart != numel * size1) {
                throw new MalformedFileException(file, "holds " + (size - dataStart) + " data bytes but shape "
                        + java.util.Arrays.toString(shape) + " of " + descr + " needs " + (numel < 0 ? "more than exist" : numel * size1));
            }
            if (numel > Integer.MAX_VALUE - 8) {
                throw new MalformedFileException(file, "has " + numel + " elements; a tensor holds at most 2^31 − 9");
            }
            int n = (int) numel, rank = shape.length;
            // Fortran order: the data is the C-order layout of the reversed shape; read it so, then transpose.
            int[] readShape = shape.clone();
            if (fortran) for (int k = 0; k < rank; k++) readShape[k] = shape[rank - 1 - k];
            Tensor t = decode(file, ch, dataStart, descr, n, readShape);
            if (fortran && rank > 1) {
                int[] perm = new int[rank];
                for (int k = 0; k < rank; k++) perm[k] = rank - 1 - k;
                t = t.permute(perm).contiguous();
            }
            return t;
        }
    }

    private static int[] parseShape(Path file, String text) throws MalformedFileException {
        String[] parts = text.split(",");
        int[] shape = new int[parts.length];
        int rank = 0;
        for (String p : parts) {
            if (p.isBlank()) continue;
            try {
                shape[rank] = Integer.parseInt(p.trim());
            } catch (NumberFormatException e) {
                throw new MalformedFileException(file, "bad shape (" + text + ")");
            }
            if (shape[rank] < 0) throw new MalformedFileException(file, "negative dimension in shape (" + text + ")");
            rank++;
        }
        return java.util.Arrays.copyOf(shape, rank);
    }

    /// Maps the data in pieces of at most 1 GiB and converts it into a new array.
    private static Tensor decode(Path file, FileChannel ch, long dataStart, String descr, int n, int[] shape) throws IOException {
        int size = descr.charAt(2) - '0';
        int piece = (int) Math.max(1, SafeTensors.mapPieceBytes / size);
        Object out = descr.equals("<f8") ? new double[n] : descr.startsWith("<i") ? new int[n] : new float[n];
        for (int first = 0; first < n; first += piece) {
            int count = Math.min(piece, n - first);
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + (long) first * size, (long) count * size).order(ByteOrder.LITTLE_ENDIAN);
            switch (descr) {
                case "<f4" -> b.asFloatBuffer().get((float[]) out, first, count);
                case "<f8" -> b.asDoubleBuffer().get((double[]) out, first, count);
                case "<i4" -> b.asIntBuffer().get((int[]) out, first, count);
                case "<f2" -> {
                    for (int k = 0; k < count; k++) ((float[]) out)[first + k] = Float.float16ToFloat(b.getShort(2 * k));
                }
                default -> {
                    for (int k = 0; k < count; k++) ((int[]) out)[first + k] = toInt(file, b.getLong(8 * k));
                }
            }
        }
        return switch (out) {
            case double[] v -> Tensor.fromArray(v, shape);
            case int[] v -> Tensor.fromArray(v, shape);
            default -> Tensor.fromArray((float[]) out, shape);
        };
    }

    private static int toInt(Path file, long x) throws MalformedFileException {
        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) throw new MalformedFileException(file, "int64 value " + x + " outside the I32 range");
        return (int) x;
    }

    public static void write(Path file, Tensor t) throws IOException {
        String descr = switch (t.dtype()) {
            case F32 -> "<f4";
            case F64 -> "<f8";
            case I32 -> "<i4";
            default -> throw new IllegalArgumentException("npy: cannot write " + t.dtype());
        };
        StringBuilder shape = new StringBuilder();
        for (int d : t.shape()) shape.append(d).append(", ");
        String dims = t.rank() == 1 ? shape.toString().trim() : shape.length() == 0 ? "" : shape.substring(0, shape.length() - 2);
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] data = SafeTensors.encode(t, t.dtype());
        AtomicWrite.write(file, out -> {
            ByteBuffer h = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
            out.write(h.array());
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            out.write(data);
        });
    }
}

package dev.rankwise.io;

import dev.rankwise.DType;
import dev.rankwise.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/// NumPy's `.npy` format (versions 1–3): magic `\x93NUMPY`, version, header length, a Python-literal
/// dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded to 64 bytes, then the data.
///
/// Reads `<f4`, `<f8`, `<f2` (to F32), `<i4` and `<i8` (to I32, range-checked), little-endian, C order;
/// Fortran order is read by transposing. Writes F32, F64 and I32 as version 1.0, atomically.
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    public static Tensor read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 10) throw new MalformedFileException(file, "truncated: too short for an .npy header");
        for (int k = 0; k < 6; k++) if (all[k] != MAGIC[k]) throw new MalformedFileException(file, "not an .npy file (bad magic)");
        int major = all[6];
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen, start;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xFFFF;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (all.length < 12) throw new MalformedFileException(file, "truncated header");
            headerLen = b.getInt(8);
            start = 12;
        } else {
            throw new MalformedFileException(file, "unsupported .npy version " + major);
        }
        if (headerLen < 0 || start + headerLen > all.length) throw new MalformedFileException(file, "header length " + headerLen + " runs past the end");
        String header = new String(all, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new MalformedFileException(file, "header lacks descr, fortran_order or shape: " + header.trim());
        String descr = d.group(1);
        boolean fortran = f.group(1).equals("True");
        String[] parts = s.group(1).split(",");
        int rank = 0;
        int[] shape = new int[parts.length];
        long numel = 1;
        for (String p : parts) {
            if (p.isBlank()) continue;
            try {
                shape[rank] = Integer.parseInt(p.trim());
            } catch (NumberFormatException e) {
                throw new MalformedFileException(file, "bad shape (" + s.group(1) + ")");
            }
            if (shape[rank] < 0) throw new MalformedFileException(file, "negative dimension in shape (" + s.group(1) + ")");
            numel *= shape[rank++];
        }
        shape = java.util.Arrays.copyOf(shape, rank);
        int size = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            case "<f2" -> 2;
            default -> throw new MalformedFileException(file, "unsupported dtype '" + descr + "' (supported: <f4, <f8, <f2, <i4, <i8)");
        };
        int dataStart = start + headerLen;
        if ((long) all.length - dataStart != numel * size) {
            throw new MalformedFileException(file, "holds " + (all.length - dataStart) + " data bytes but shape " + java.util.Arrays.toString(shape)
                    + " of " + descr + " needs " + numel * size);
        }
        int n = (int) numel;
        ByteBuffer data = ByteBuffer.wrap(all, dataStart, all.length - dataStart).slice().order(ByteOrder.LITTLE_ENDIAN);
        // Fortran order: the data is the C-order layout of the reversed shape; read it so, then transpose.
        int[] readShape = shape.clone();
        if (fortran) for (int k = 0; k < rank; k++) readShape[k] = shape[rank - 1 - k];
        Tensor t = switch (descr) {
            case "<f4" -> {
                float[] v = new float[n];
                data.asFloatBuffer().get(v);
                yield Tensor.fromArray(v, readShape);
            }
            case "<f8" -> {
                double[] v = new double[n];
                data.asDoubleBuffer().get(v);
                yield Tensor.fromArray(v, readShape);
            }
            case "<f2" -> {
                float[] v = new float[n];
                for (int k = 0; k < n; k++) v[k] = Float.float16ToFloat(data.getShort(2 * k));
                yield Tensor.fromArray(v, readShape);
            }
            case "<i4" -> {
                int[] v = new int[n];
                data.asIntBuffer().get(v);
                yield Tensor.fromArray(v, readShape);
            }
            default -> {
                int[] v = new int[n];
                for (int k = 0; k < n; k++) {
                    long x = data.getLong(8 * k);
                    if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) throw new MalformedFileException(file, "int64 value " + x + " outside the I32 range");
                    v[k] = (int) x;
                }
                yield Tensor.fromArray(v, readShape);
            }
        };
        if (fortran && rank > 1) {
            int[] perm = new int[rank];
            for (int k = 0; k < rank; k++) perm[k] = rank - 1 - k;
            t = t.permute(perm).contiguous();
        }
        return t;
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
        Object data = t.dtype() == DType.F32 ? t.toFloatArray() : t.dtype() == DType.F64 ? t.toDoubleArray() : t.toIntArray();
        AtomicWrite.write(file, out -> {
            ByteBuffer h = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            h.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
            out.write(h.array());
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            out.write(SafeTensors.toBytes(data));
        });
    }
}

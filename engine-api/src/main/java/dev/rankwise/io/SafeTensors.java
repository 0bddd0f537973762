package dev.rankwise.io;

import dev.rankwise.DType;
import dev.rankwise.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, a JSON
/// header of N bytes mapping names to `{dtype, shape, data_offsets}` (offsets relative to the data
/// start) and an optional `__metadata__` of strings, then the raw little-endian data.
///
/// Reading converts F16 and BF16 to F32 and I64 to I32 (range-checked); F32, F64 and I32 load as they
/// are. Files are memory-mapped, so a large file is not copied into the heap before conversion. Every
/// inconsistency — truncation, a header that is not JSON, offsets that overlap, leave gaps, run past
/// the end or disagree with the shape — is a [MalformedFileException] naming the file.
public final class SafeTensors {
    private SafeTensors() {}

    private static final long MAX_HEADER = 100L << 20;

    /// Every tensor in the file, in header order.
    public static Map<String, Tensor> read(Path file) throws IOException {
        return load(file, true).tensors;
    }

    /// The `__metadata__` strings, or an empty map.
    public static Map<String, String> metadata(Path file) throws IOException {
        return load(file, false).metadata;
    }

    private record Loaded(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    private static Loaded load(Path file, boolean withData) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new MalformedFileException(file, "truncated: " + size + " bytes, too short for the header length");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long n = len.getLong(0);
            if (n < 2 || n > MAX_HEADER || 8 + n > size) {
                throw new MalformedFileException(file, "header length " + n + " is impossible for a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new MalformedFileException(file, "header is not valid JSON (" + e.getMessage() + ")");
            }
            if (!(parsed instanceof Map<?, ?> header)) throw new MalformedFileException(file, "header is not a JSON object");
            long dataStart = 8 + n, dataSize = size - dataStart;
            Map<String, String> meta = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (var e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> m)) throw new MalformedFileException(file, "__metadata__ is not an object");
                    for (var me : m.entrySet()) {
                        if (!(me.getValue() instanceof String sv)) throw new MalformedFileException(file, "__metadata__ value of '" + me.getKey() + "' is not a string");
                        meta.put((String) me.getKey(), sv);
                    }
                    continue;
                }
                entries.add(entry(file, name, e.getValue(), dataSize));
            }
            checkLayout(file, entries, dataSize);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            if (withData) {
                var map = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, dataSize).order(ByteOrder.LITTLE_ENDIAN);
                for (Entry en : entries) tensors.put(en.name, decode(file, en, map));
            }
            return new Loaded(tensors, meta);
        }
    }

    private record Entry(String name, String dtype, int[] shape, long begin, long end) {}

    private static Entry entry(Path file, String name, Object spec, long dataSize) throws MalformedFileException {
        if (!(spec instanceof Map<?, ?> m)) throw new MalformedFileException(file, "entry '" + name + "' is not an object");
        if (!(m.get("dtype") instanceof String dtype)) throw new MalformedFileException(file, "entry '" + name + "' has no dtype");
        if (!(m.get("shape") instanceof List<?> shapeList)) throw new MalformedFileException(file, "entry '" + name + "' has no shape");
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2 || !(off.get(0) instanceof Long b) || !(off.get(1) instanceof Long e)) {
            throw new MalformedFileException(file, "entry '" + name + "' has no valid data_offsets");
        }
        int[] shape = new int[shapeList.size()];
        long numel = 1;
        for (int k = 0; k < shape.length; k++) {
            if (!(shapeList.get(k) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, "entry '" + name + "' has an invalid shape " + shapeList);
            }
            shape[k] = (int) (long) d;
            numel *= d;
        }
        int bytes = switch (dtype) {
            case "F32", "I32" -> 4;
            case "F64", "I64" -> 8;
            case "F16", "BF16" -> 2;
            default -> throw new MalformedFileException(file, "entry '" + name + "' has unsupported dtype " + dtype
                    + " (supported: F32, F64, F16, BF16, I32, I64)");
        };
        if (b < 0 || e < b || e > dataSize) {
            throw new MalformedFileException(file, "entry '" + name + "' offsets [" + b + ", " + e + ") run outside the " + dataSize + " data bytes");
        }
        if (e - b != numel * bytes) {
            throw new MalformedFileException(file, "entry '" + name + "' has " + (e - b) + " bytes but shape " + shapeList + " of " + dtype + " needs " + numel * bytes);
        }
        return new Entry(name, dtype, shape, b, e);
    }

    /// Tensors must tile the data area exactly, without overlaps or gaps (the format's own rule).
    private static void checkLayout(Path file, List<Entry> entries, long dataSize) throws MalformedFileException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> Long.compare(x.begin, y.begin));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin != at) {
                throw new MalformedFileException(file, "entry '" + e.name + "' starts at " + e.begin + " but the previous data ends at " + at
                        + (e.begin < at ? " (overlap)" : " (gap)"));
            }
            at = e.end;
        }
        if (at != dataSize) throw new MalformedFileException(file, "data area has " + dataSize + " bytes but the tensors cover " + at);
    }

    private static Tensor decode(Path file, Entry e, ByteBuffer data) throws MalformedFileException {
        int n = Math.toIntExact((e.end - e.begin) / switch (e.dtype) { case "F64", "I64" -> 8; case "F16", "BF16" -> 2; default -> 4; });
        ByteBuffer b = data.slice((int) e.begin, (int) (e.end - e.begin)).order(ByteOrder.LITTLE_ENDIAN);
        switch (e.dtype) {
            case "F32" -> {
                float[] v = new float[n];
                b.asFloatBuffer().get(v);
                return Tensor.fromArray(v, e.shape);
            }
            case "F64" -> {
                double[] v = new double[n];
                b.asDoubleBuffer().get(v);
                return Tensor.fromArray(v, e.shape);
            }
            case "I32" -> {
                int[] v = new int[n];
                b.asIntBuffer().get(v);
                return Tensor.fromArray(v, e.shape);
            }
            case "I64" -> {
                int[] v = new int[n];
                for (int k = 0; k < n; k++) {
                    long x = b.getLong(k * 8);
                    if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                        throw new MalformedFileException(file, "entry '" + e.name + "' holds I64 value " + x + " outside the I32 range");
                    }
                    v[k] = (int) x;
                }
                return Tensor.fromArray(v, e.shape);
            }
            case "F16" -> {
                float[] v = new float[n];
                for (int k = 0; k < n; k++) v[k] = Float.float16ToFloat(b.getShort(k * 2));
                return Tensor.fromArray(v, e.shape);
            }
            default -> { // BF16: the high half of an F32
                float[] v = new float[n];
                for (int k = 0; k < n; k++) v[k] = Float.intBitsToFloat((b.getShort(k * 2) & 0xFFFF) << 16);
                return Tensor.fromArray(v, e.shape);
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    /// Writes `tensors` (F32, F64 or I32) in the given order, atomically.
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        List<Object> arrays = new ArrayList<>();
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            String dt = switch (t.dtype()) {
                case F32 -> "F32";
                case F64 -> "F64";
                case I32 -> "I32";
                default -> throw new IllegalArgumentException("safetensors: cannot write " + t.dtype() + " tensor '" + e.getKey() + "'");
            };
            long bytes = t.numel() * t.dtype().bytes();
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("dtype", dt);
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape()) shape.add((long) d);
            spec.put("shape", shape);
            spec.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), spec);
            offset += bytes;
            arrays.add(t.dtype() == DType.F32 ? t.toFloatArray() : t.dtype() == DType.F64 ? t.toDoubleArray() : t.toIntArray());
        }
        byte[] json = Json.write(header).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        long total = offset;
        AtomicWrite.write(file, out -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            out.write(head.array());
            for (Object a : arrays) out.write(toBytes(a));
        });
        assert total >= 0;
    }

    static byte[] toBytes(Object a) {
        if (a instanceof float[] f) {
            ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(f);
            return b.array();
        }
        if (a instanceof double[] d) {
            ByteBuffer b = ByteBuffer.allocate(d.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(d);
            return b.array();
        }
        int[] i = (int[]) a;
        ByteBuffer b = ByteBuffer.allocate(i.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(i);
        return b.array();
    }
}

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, a JSON
/// header of N bytes mapping names to `{dtype, shape, data_offsets}` (offsets relative to the data
/// start) and an optional `__metadata__` of strings, then the raw little-endian data.
///
/// Reading converts F16 and BF16 to F32 and I64 to I32 (range-checked); F32, F64 and I32 load as they
/// are. The data is memory-mapped tensor by tensor (in pieces of at most 1 GiB), so files of any size
/// are read without first copying them into the heap. Every inconsistency — truncation, a header that
/// is not JSON, an unknown dtype, offsets that overlap, leave gaps, run past the end or disagree with
/// the shape — is a [MalformedFileException] naming the file, raised before any tensor is built.
///
/// Writing stores F32, F64 and I32 tensors as they are, or floating tensors converted to F16 or BF16
/// (round to nearest even), through a temporary file that is moved into place.
public final class SafeTensors {
    private SafeTensors() {}

    private static final long MAX_HEADER = 100L << 20;
    /// Bytes mapped at a time (package-private so tests can make it small and cover the piece loop).
    static long mapPieceBytes = 1L << 30;

    /// Every tensor in the file, in header order.
    public static Map<String, Tensor> read(Path file) throws IOException {
        return load(file, true).tensors;
    }

    /// The `__metadata__` strings, or an empty map.
    public static Map<String, String> metadata(Path file) throws IOException {
        return load(file, false).metadata;
    }

    private record Loaded(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    private record Entry(String name, String dtype, int[] shape, int numel, long begin, long end) {}

    private static Loaded load(Path file, boolean withData) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new MalformedFileException(file, "truncated: " + size + " bytes, too short for the header length");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, len, 0);
            long n = len.getLong(0);
            if (n < 2 || n > MAX_HEADER || 8 + n > size) {
                throw new MalformedFileException(file, "header length " + n + " is impossible for a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(file, ch, hb, 8);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8));
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
                        if (!(me.getValue() instanceof String sv)) {
                            throw new MalformedFileException(file, "__metadata__ value of '" + me.getKey() + "' is not a string");
                        }
                        meta.put((String) me.getKey(), sv);
                    }
                    continue;
                }
                entries.add(entry(file, name, e.getValue(), dataSize));
            }
            checkLayout(file, entries, dataSize);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            if (withData) for (Entry en : entries) tensors.put(en.name, decode(file, ch, dataStart, en));
            return new Loaded(tensors, meta);
        }
    }

    private static int bytesOf(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "F64", "I64" -> 8;
            case "F16", "BF16" -> 2;
            default -> 0;
        };
    }

    private static Entry entry(Path file, String name, Object spec, long dataSize) throws MalformedFileException {
        if (!(spec instanceof Map<?, ?> m)) throw new MalformedFileException(file, "entry '" + name + "' is not an object");
        if (!(m.get("dtype") instanceof String dtype)) throw new MalformedFileException(file, "entry '" + name + "' has no dtype");
        if (!(m.get("shape") instanceof List<?> shapeList)) throw new MalformedFileException(file, "entry '" + name + "' has no shape");
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2 || !(off.get(0) instanceof Long b) || !(off.get(1) instanceof Long e)) {
            throw new MalformedFileException(file, "entry '" + name + "' has no valid data_offsets");
        }
        int bytes = bytesOf(dtype);
        if (bytes == 0) {
            throw new MalformedFileException(file, "entry '" + name + "' has unsupported dtype " + dtype
                    + " (supported: F32, F64, F16, BF16, I32, I64)");
        }
        int[] shape = new int[shapeList.size()];
        long numel = 1;
        for (int k = 0; k < shape.length; k++) {
            if (!(shapeList.get(k) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, "entry '" + name + "' has an invalid shape " + shapeList);
            }
            shape[k] = (int) (long) d;
            numel = d == 0 || numel == 0 ? 0 : numel > Long.MAX_VALUE / 8 / d ? -1 : numel * d;
            if (numel < 0) throw new MalformedFileException(file, "entry '" + name + "' has a shape " + shapeList + " too large to exist");
        }
        if (b < 0 || e < b || e > dataSize) {
            throw new MalformedFileException(file, "entry '" + name + "' offsets [" + b + ", " + e + ") run outside the " + dataSize
                    + " data bytes" + (e > dataSize ? " (truncated file?)" : ""));
        }
        if (e - b != numel * bytes) {
            throw new MalformedFileException(file, "entry '" + name + "' has " + (e - b) + " bytes but shape " + shapeList + " of " + dtype + " needs " + numel * bytes);
        }
        if (numel > Integer.MAX_VALUE - 8) {
            throw new MalformedFileException(file, "entry '" + name + "' has " + numel + " elements; a tensor holds at most 2^31 − 9");
        }
        return new Entry(name, dtype, shape, (int) numel, b, e);
    }

    /// Tensors must tile the data area exactly, without overlaps or gaps (the format's own rule).
    private static void checkLayout(Path file, List<Entry> entries, long dataSize) throws MalformedFileException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> x.begin != y.begin ? Long.compare(x.begin, y.begin) : Long.compare(x.end, y.end));
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

    /// Maps the entry's bytes piece by piece and converts them into a new array.
    private static Tensor decode(Path file, FileChannel ch, long dataStart, Entry e) throws IOException {
        int n = e.numel, size = bytesOf(e.dtype);
        Object out = switch (e.dtype) {
            case "F64" -> new double[n];
            case "I32", "I64" -> new int[n];
            default -> new float[n];
        };
        long pieceElements = Math.max(1, mapPieceBytes / 8);
        for (long first = 0; first < n; first += pieceElements) {
            int count = (int) Math.min(pieceElements, n - first);
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin + first * size, (long) count * size)
                    .order(ByteOrder.LITTLE_ENDIAN);
            int at = (int) first;
            switch (e.dtype) {
                case "F32" -> b.asFloatBuffer().get((float[]) out, at, count);
                case "F64" -> b.asDoubleBuffer().get((double[]) out, at, count);
                case "I32" -> b.asIntBuffer().get((int[]) out, at, count);
                case "I64" -> {
                    int[] v = (int[]) out;
                    for (int k = 0; k < count; k++) {
                        long x = b.getLong(k * 8);
                        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                            throw new MalformedFileException(file, "entry '" + e.name + "' holds I64 value " + x + " outside the I32 range");
                        }
                        v[at + k] = (int) x;
                    }
                }
                case "F16" -> {
                    float[] v = (float[]) out;
                    for (int k = 0; k < count; k++) v[at + k] = Float.float16ToFloat(b.getShort(k * 2));
                }
                default -> { // BF16: the high half of an F32
                    float[] v = (float[]) out;
                    for (int k = 0; k < count; k++) v[at + k] = Float.intBitsToFloat((b.getShort(k * 2) & 0xFFFF) << 16);
                }
            }
        }
        return switch (out) {
            case double[] d -> Tensor.fromArray(d, e.shape);
            case int[] i -> Tensor.fromArray(i, e.shape);
            default -> Tensor.fromArray((float[]) out, e.shape);
        };
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new MalformedFileException(file, "truncated while reading the header");
        }
    }

    /// Writes `tensors` (F32, F64 or I32) in the given order, each in its own dtype, atomically.
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, null);
    }

    /// Writes `tensors` atomically, floating ones stored as `floatType` (F32, F64, F16 or BF16; null
    /// keeps each tensor's own dtype); I32 tensors are stored as they are.
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, DType floatType) throws IOException {
        if (floatType != null && !floatType.isFloating()) {
            throw new IllegalArgumentException("safetensors: cannot store floating tensors as " + floatType);
        }
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        List<Object[]> parts = new ArrayList<>();   // {tensor, stored dtype}
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64 && t.dtype() != DType.I32) {
                throw new IllegalArgumentException("safetensors: cannot write " + t.dtype() + " tensor '" + e.getKey() + "'");
            }
            DType stored = floatType != null && t.dtype().isFloating() ? floatType : t.dtype();
            long bytes = t.numel() * stored.bytes();
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("dtype", stored.name());
            List<Object> shape = new ArrayList<>();
            for (int d : t.shape()) shape.add((long) d);
            spec.put("shape", shape);
            spec.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), spec);
            offset += bytes;
            parts.add(new Object[] {t, stored});
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;   // the data starts 8-byte aligned, as the reference writer does
        AtomicWrite.write(file, out -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            out.write(head.array());
            for (Object[] p : parts) out.write(encode((Tensor) p[0], (DType) p[1]));
        });
    }

    /// The tensor's elements in row-major order as little-endian bytes of `stored`.
    static byte[] encode(Tensor t, DType stored) {
        int n = (int) t.numel();
        ByteBuffer b = ByteBuffer.allocate(n * stored.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (stored) {
            case F64 -> b.asDoubleBuffer().put(t.toDoubleArray());
            case I32 -> b.asIntBuffer().put(t.toIntArray());
            case F32 -> b.asFloatBuffer().put(t.toFloatArray());
            case F16 -> {
                for (float v : t.toFloatArray()) b.putShort(Float.floatToFloat16(v));
            }
            case BF16 -> {
                for (float v : t.toFloatArray()) b.putShort(toBf16(v));
            }
        }
        return b.array();
    }

    /// Rounds an F32 to BF16 (its high 16 bits) to nearest, ties to even; NaN stays a (quiet) NaN.
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}

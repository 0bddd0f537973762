package dev.rankwise.io;

import dev.rankwise.DType;
import dev.rankwise.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/// safetensors and .npy: bit-exact round trips, files built byte by byte from the formats' specs, and
/// every malformed case rejected with the file named and nothing half-written.
class FilesTest {
    @TempDir
    Path dir;

    private static Map<String, Tensor> sample() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.fromArray(new float[] {1.5f, -0f, Float.NaN, Float.intBitsToFloat(0x7fc00123), Float.MIN_VALUE, 3}, 2, 3));
        m.put("b", Tensor.fromArray(new double[] {Math.PI, -0.0, Double.MAX_VALUE}, 3));
        m.put("idx", Tensor.fromArray(new int[] {7, -1}, 2));
        m.put("scalar", Tensor.scalar(2.5, DType.F32));
        m.put("empty", Tensor.zeros(DType.F32, 0, 4));
        return m;
    }

    @Test
    void safetensorsRoundTripIsBitExact() throws IOException {
        Path f = dir.resolve("t.safetensors");
        Map<String, Tensor> in = sample();
        SafeTensors.write(f, in, Map.of("format", "pt"));
        Map<String, Tensor> out = SafeTensors.read(f);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
        for (String k : in.keySet()) {
            Tensor x = in.get(k), y = out.get(k);
            assertEquals(x.dtype(), y.dtype(), k);
            assertArrayEquals(x.shape(), y.shape(), k);
            if (x.dtype() == DType.F32) {
                float[] a = x.toFloatArray(), b = y.toFloatArray();
                for (int i = 0; i < a.length; i++) assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), k);
            } else if (x.dtype() == DType.F64) {
                double[] a = x.toDoubleArray(), b = y.toDoubleArray();
                for (int i = 0; i < a.length; i++) assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), k);
            } else {
                assertArrayEquals(x.toIntArray(), y.toIntArray());
            }
        }
        assertEquals(Map.of("format", "pt"), SafeTensors.metadata(f));
        assertEquals(0, (Files.readAllBytes(f).length - 8 - ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN).getLong(0)) % 4);
    }

    /// A file laid out by hand as the reference implementation writes one, with F16 and BF16 entries.
    @Test
    void readsHandBuiltFileWithHalfTypes() throws IOException {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"bf\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]},"
                + "\"l\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
        b.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
        b.putShort((short) (Float.floatToIntBits(0.25f) >>> 16)).putShort((short) (Float.floatToIntBits(-8f) >>> 16));
        b.putLong(42);
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, b.array());
        Map<String, Tensor> t = SafeTensors.read(f);
        assertArrayEquals(new float[] {1.5f, -2f}, t.get("h").toFloatArray());
        assertArrayEquals(new float[] {0.25f, -8f}, t.get("bf").toFloatArray());
        assertArrayEquals(new int[] {1, 2}, t.get("bf").shape());
        assertArrayEquals(new int[] {42}, t.get("l").toIntArray());
    }

    private void assertMalformed(byte[] bytes, String expected) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, bytes);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(expected), e.getMessage());
    }

    private static byte[] file(String header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
        return b.array();
    }

    @Test
    void malformedSafetensorsAreRejectedClearly() throws IOException {
        assertMalformed(new byte[] {1, 2, 3}, "truncated");
        byte[] lying = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1 << 20).array();
        assertMalformed(lying, "header length");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8), "not valid JSON");
        assertMalformed(file("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unsupported dtype Q4");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs 12");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "outside");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlap");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "gap");
    }

    /// Writing as F16 or BF16 rounds to nearest, ties to even, and reads back as F32; NaN and ±Inf survive.
    @Test
    void halfPrecisionWritesRoundToNearestEven() throws IOException {
        float one = 1f, ulpBf = 0x1p-7f, ulpH = 0x1p-10f;
        float[] v = {one + ulpBf / 2, one + 3 * ulpBf / 2, one + ulpH / 2, one + 3 * ulpH / 2, -2.5f, 65504f,
                Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-3f};
        Map<String, Tensor> m = Map.of("v", Tensor.fromArray(v, v.length));
        Path bf = dir.resolve("bf.safetensors"), h = dir.resolve("h.safetensors");
        SafeTensors.write(bf, m, Map.of(), DType.BF16);
        SafeTensors.write(h, m, Map.of(), DType.F16);
        float[] b = SafeTensors.read(bf).get("v").toFloatArray(), f = SafeTensors.read(h).get("v").toFloatArray();
        assertEquals(one, b[0], "BF16 tie to even (down)");
        assertEquals(one + 2 * ulpBf, b[1], "BF16 tie to even (up)");
        assertEquals(-2.5f, b[4]);
        assertTrue(Float.isNaN(b[6]));
        assertEquals(Float.POSITIVE_INFINITY, b[7]);
        assertEquals(Float.NEGATIVE_INFINITY, b[8]);
        assertEquals(1e-3f, b[9], 1e-3f * 0x1p-8f, "BF16 keeps 8 bits");
        assertEquals(one, f[2], "F16 tie to even (down)");
        assertEquals(one + 2 * ulpH, f[3], "F16 tie to even (up)");
        assertEquals(65504f, f[5], "F16 max");
        assertTrue(Float.isNaN(f[6]));
        assertEquals(Float.NEGATIVE_INFINITY, f[8]);
        assertEquals(DType.F32, SafeTensors.read(h).get("v").dtype(), "half types load as F32");
        assertEquals(8 + headerLength(bf) + 2L * v.length, Files.size(bf), "two bytes per element");
        Map<String, Tensor> ints = Map.of("i", Tensor.fromArray(new int[] {7}, 1));
        SafeTensors.write(h, ints, Map.of(), DType.F16);
        assertEquals(DType.I32, SafeTensors.read(h).get("i").dtype(), "integer tensors keep their type");
    }

    private static long headerLength(Path f) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /// A valid file cut short, a header nested without end, a shape too large to exist, and a header
    /// whose length field promises more than the file has.
    @Test
    void moreMalformedSafetensors() throws IOException {
        Path good = dir.resolve("good.safetensors");
        SafeTensors.write(good, sample(), Map.of());
        byte[] all = Files.readAllBytes(good);
        assertMalformed(java.util.Arrays.copyOf(all, all.length - 3), "truncated");
        assertMalformed(java.util.Arrays.copyOf(all, 20), "header length");
        assertMalformed(file("[".repeat(5000) + "]".repeat(5000), 0), "nested deeper");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8), "too large");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "invalid shape");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{}}", 8), "duplicate key");
        assertMalformed(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "data_offsets");
        assertMalformed(file("[1, 2]", 0), "not a JSON object");
        assertMalformed(file("{\"__metadata__\":{\"k\":1}}", 0), "not a string");
    }

    @Test
    void npyRoundTripAndFortranOrder() throws IOException {
        Tensor t = Tensor.arange(0, 6, 1, DType.F64).reshape(2, 3);
        Path f = dir.resolve("t.npy");
        Npy.write(f, t);
        assertArrayEquals(t.toDoubleArray(), Npy.read(f).toDoubleArray());
        assertEquals(0, (10 + header(f).length()) % 64, "data starts on a 64-byte boundary");
        Npy.write(f, Tensor.fromArray(new int[] {3, 4, 5}, 3));
        assertArrayEquals(new int[] {3, 4, 5}, Npy.read(f).toIntArray());
        // Fortran-order 2×3 holding [[0,1,2],[3,4,5]]: the data is column by column.
        String dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (float v : new float[] {0, 3, 1, 4, 2, 5}) b.putFloat(v);
        Files.write(f, b.array());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, Npy.read(f).toFloatArray());
    }

    private static String header(Path f) throws IOException {
        byte[] all = Files.readAllBytes(f);
        int len = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getShort(8);
        return new String(all, 10, len, StandardCharsets.ISO_8859_1);
    }

    @Test
    void malformedNpyIsRejected() throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.write(f, "hello world, not numpy".getBytes());
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("magic"));
        Npy.write(f, Tensor.ones(DType.F32, 4, 4));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 5));
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("needs 64"));
    }

    /// Large files are mapped in pieces; with 24-byte pieces every tensor here spans several.
    @Test
    void readsInPieces() throws IOException {
        long before = SafeTensors.mapPieceBytes;
        try {
            SafeTensors.mapPieceBytes = 24;
            Path f = dir.resolve("pieces.safetensors"), g = dir.resolve("pieces.npy");
            Map<String, Tensor> in = sample();
            SafeTensors.write(f, in, Map.of());
            Map<String, Tensor> out = SafeTensors.read(f);
            for (String k : in.keySet()) assertArrayEquals(in.get(k).toDoubleArray(), out.get(k).toDoubleArray(), k);
            Tensor t = Tensor.arange(0, 37, 1, DType.F64).reshape(37);
            Npy.write(g, t);
            assertArrayEquals(t.toDoubleArray(), Npy.read(g).toDoubleArray());
        } finally {
            SafeTensors.mapPieceBytes = before;
        }
    }

    @Test
    void moreMalformedNpy() throws IOException {
        Path f = dir.resolve("bad.npy");
        for (String[] c : new String[][] {{"'>f4'", "unsupported dtype '>f4'"}, {"'|b1'", "unsupported dtype '|b1'"}}) {
            Files.write(f, npy("{'descr': " + c[0] + ", 'fortran_order': False, 'shape': (2,), }", 8));
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npy.read(f));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(c[1]), e.getMessage());
        }
        Files.write(f, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8));
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("needs 12"));
        Files.write(f, npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 4), }", 8));
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("needs"));
        Files.write(f, npy("{'descr': '<f4', 'shape': (2,), }", 8));
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("lacks"));
        byte[] b = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
        b[6] = 9;
        Files.write(f, b);
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("version 9"));
        b = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
        b[8] = (byte) 0xff;
        b[9] = (byte) 0x7f;
        Files.write(f, b);
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("runs past the end"));
        // <f2 and <i8 are read too; an <i8 outside the I32 range is refused.
        ByteBuffer h = ByteBuffer.wrap(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4)).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(h.capacity() - 4, Float.floatToFloat16(1.5f)).putShort(h.capacity() - 2, Float.floatToFloat16(-0.25f));
        Files.write(f, h.array());
        assertArrayEquals(new float[] {1.5f, -0.25f}, Npy.read(f).toFloatArray());
        h = ByteBuffer.wrap(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", 8)).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(h.capacity() - 8, 1L << 40);
        Files.write(f, h.array());
        assertTrue(assertThrows(MalformedFileException.class, () -> Npy.read(f)).getMessage().contains("outside the I32 range"));
    }

    /// A version-1.0 file with `dict` as its header (padded to 64 bytes) and `dataBytes` zero bytes.
    private static byte[] npy(String dict, int dataBytes) {
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }

    @Test
    void writtenFilesGetUsualPermissions() throws IOException {
        Path f = dir.resolve("p.npy");
        Npy.write(f, Tensor.ones(DType.F32, 2));
        assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"), Files.getPosixFilePermissions(f));
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
        Npy.write(f, Tensor.ones(DType.F32, 3));
        assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"), Files.getPosixFilePermissions(f),
                "a replaced file keeps its permissions");
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path f = dir.resolve("keep.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] before = Files.readAllBytes(f);
        assertThrows(IOException.class, () -> AtomicWrite.write(f, out -> {
            out.write(1);
            throw new IOException("disk full");
        }));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left");
        }
    }

    /// A writer that closes the stream it is given (as Jackson does) still gets its bytes to disk.
    @Test
    void writerMayCloseItsStream() throws IOException {
        Path f = dir.resolve("closed.json");
        AtomicWrite.write(f, out -> {
            out.write(new byte[] {'{', '}'});
            out.close();
        });
        assertArrayEquals(new byte[] {'{', '}'}, Files.readAllBytes(f));
    }
}

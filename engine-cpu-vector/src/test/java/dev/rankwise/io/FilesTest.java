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

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path f = dir.resolve("keep.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] before = Files.readAllBytes(f);
        Map<String, Tensor> bad = new LinkedHashMap<>(sample());
        bad.put("f16", Tensor.zeros(DType.F32, 2));
        assertThrows(IOException.class, () -> AtomicWrite.write(f, out -> {
            out.write(1);
            throw new IOException("disk full");
        }));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left");
        }
    }
}

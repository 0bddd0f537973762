package dev.rankwise.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/// The checked-in PTX modules, read from this jar's resources.
public final class Ptx {
    private Ptx() {}

    /// The PTX text of `module` (e.g. `elementwise`).
    public static String text(String module) {
        try (InputStream in = Ptx.class.getResourceAsStream(module + ".ptx")) {
            if (in == null) throw new IllegalStateException("kernels: no PTX resource for module '" + module + "'");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("kernels: cannot read " + module + ".ptx", e);
        }
    }

    /// The PTX image of `module` as `cuModuleLoadData` wants it: ASCII with a terminating NUL.
    public static byte[] image(String module) {
        byte[] text = text(module).getBytes(StandardCharsets.US_ASCII);
        byte[] image = new byte[text.length + 1];
        System.arraycopy(text, 0, image, 0, text.length);
        return image;
    }
}

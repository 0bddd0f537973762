package dev.rankwise.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/// Writes through a temporary file in the target's directory, forces it to disk, and moves it into
/// place: a failed write (or a crash) leaves the previous file untouched and no partial file behind.
public final class AtomicWrite {
    private AtomicWrite() {}

    /// What produces the content.
    @FunctionalInterface
    public interface Content {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, Content content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            keepUsualPermissions(tmp, target);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16) {
                    @Override
                    public void close() throws IOException {
                        flush();   // writers that close their stream (JSON mappers do) must not close the channel before the sync
                    }
                };
                content.write(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /// Temporary files are created owner-only; the result gets the permissions of the file it replaces,
    /// or rw-r--r-- for a new one, as a plain write would.
    private static void keepUsualPermissions(Path tmp, Path target) throws IOException {
        if (!Files.getFileStore(tmp).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) return;
        Files.setPosixFilePermissions(tmp, Files.exists(target) ? Files.getPosixFilePermissions(target)
                : java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    }
}

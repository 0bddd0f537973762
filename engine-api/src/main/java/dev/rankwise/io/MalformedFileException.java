package dev.rankwise.io;

import java.io.IOException;
import java.nio.file.Path;

/// A file that is truncated, has a malformed header, or describes data it does not hold.
public final class MalformedFileException extends IOException {
    public MalformedFileException(Path file, String problem) {
        super(file + ": " + problem);
    }
}

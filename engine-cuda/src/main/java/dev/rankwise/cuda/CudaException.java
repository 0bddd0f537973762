package dev.rankwise.cuda;

/// A CUDA call failed: the message names the call, its arguments where they help, and the error.
public class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}

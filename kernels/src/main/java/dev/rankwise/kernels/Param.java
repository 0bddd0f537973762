package dev.rankwise.kernels;

/// One parameter of a kernel's entry point: its name (for error messages) and its type as the PTX
/// `.entry` declares it.
public record Param(String name, Type type, int structBytes) {
    /// Parameter types. `PTR` and `U64` are both `.u64` in PTX; `STRUCT` is a by-value struct
    /// (`.param .align 4 .b8 name[structBytes]`).
    public enum Type {
        PTR(".u64", 8), I32(".u32", 4), U64(".u64", 8), F64(".f64", 8), F32(".f32", 4), STRUCT(".b8", 0);

        private final String ptx;
        private final int bytes;

        Type(String ptx, int bytes) {
            this.ptx = ptx;
            this.bytes = bytes;
        }

        /// The type as written in a PTX `.param` declaration.
        public String ptx() {
            return ptx;
        }

        /// Size in bytes (structs: see [Param#structBytes]).
        public int bytes() {
            return bytes;
        }
    }

    public static Param ptr(String name) {
        return new Param(name, Type.PTR, 0);
    }

    public static Param i32(String name) {
        return new Param(name, Type.I32, 0);
    }

    public static Param u64(String name) {
        return new Param(name, Type.U64, 0);
    }

    public static Param f32(String name) {
        return new Param(name, Type.F32, 0);
    }

    public static Param f64(String name) {
        return new Param(name, Type.F64, 0);
    }

    public static Param struct(String name, int bytes) {
        return new Param(name, Type.STRUCT, bytes);
    }

    /// Bytes this parameter occupies in a launch.
    public int bytes() {
        return type == Type.STRUCT ? structBytes : type.bytes();
    }

    @Override
    public String toString() {
        return type == Type.STRUCT ? name + ": struct[" + structBytes + "]" : name + ": " + type;
    }
}

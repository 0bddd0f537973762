package dev.rankwise;

import dev.rankwise.spi.Releasable;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.Set;

/// Deterministic release of device memory.
///
/// ```java
/// for (Batch b : batches) {
///     try (var scope = Memory.scope()) {
///         Tensor loss = model.forward(b.x()).sub(b.y()).square().mean();  // intermediates on the GPU
///         loss.backward();
///         optimizer.step();      // parameters change in place; its moments are allocated untracked
///         optimizer.zeroGrad();  // gradients die with the step
///     }                          // every buffer allocated in the step goes back to the pool
/// }
/// ```
///
/// Backends register releasable storage (GPU buffers) with the innermost open scope of the
/// allocating thread; closing the scope releases everything registered in it except what was
/// kept, which moves to the enclosing scope (or out of scope management at the outermost level).
/// Host storage is plain Java arrays and is never tracked. Memory allocated outside any scope is
/// released when the garbage collector finds it unreachable (a `Cleaner` in the backend).
/// Using a tensor whose storage a scope released is an error that says so.
public final class Memory {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private Memory() {}

    /// Opens a scope on this thread; close it (try-with-resources) on the same thread.
    public static Scope scope() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /// For backends: registers freshly allocated storage with this thread's innermost open scope.
    public static void track(Releasable storage) {
        Scope s = CURRENT.get();
        if (s != null && !s.suspended) s.owned.add(storage);
    }

    /// Runs `allocation` with scope tracking suspended: what it allocates lives until it is unreachable,
    /// whatever scope is open. For long-lived state created lazily (an optimizer's moments).
    public static <T> T untracked(java.util.function.Supplier<T> allocation) {
        Scope s = CURRENT.get();
        if (s == null || s.suspended) return allocation.get();
        s.suspended = true;
        try {
            return allocation.get();
        } finally {
            s.suspended = false;
        }
    }

    /// A region whose device allocations are released when it closes.
    public static final class Scope implements AutoCloseable {
        private final Scope parent;
        private final Set<Releasable> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        private boolean closed, suspended;

        private Scope(Scope parent) {
            this.parent = parent;
        }

        /// Keeps these tensors' storage (and their gradients') alive past this scope. Returns the first.
        public Tensor keep(Tensor... tensors) {
            for (Tensor t : tensors) keepOne(t);
            return tensors.length == 0 ? null : tensors[0];
        }

        /// Keeps every tensor of `tensors` (e.g. a module's parameters).
        public void keep(Iterable<Tensor> tensors) {
            for (Tensor t : tensors) keepOne(t);
        }

        private void keepOne(Tensor t) {
            if (t == null) return;
            if (t.storage() instanceof Releasable r && owned.remove(r) && parent != null) parent.owned.add(r);
            if (t.grad() != null) keepOne(t.grad());
        }

        /// Number of storages this scope would release now.
        public int size() {
            return owned.size();
        }

        @Override
        public void close() {
            if (closed) return;
            if (CURRENT.get() != this) {
                throw new IllegalStateException("Memory.scope: scopes must close in reverse order of opening, on the thread that opened them");
            }
            closed = true;
            CURRENT.set(parent);
            for (Releasable r : new LinkedHashSet<>(owned)) r.release();
            owned.clear();
        }
    }
}

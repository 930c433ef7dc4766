// emu_atomic.h: CUDA atomics and fences on host memory (std::atomic_ref, sequentially consistent, so they are at
// least as strong as the device's relaxed atomics). A misaligned address faults the launch, as on a GPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "emu_runtime.h"

namespace emu {

template <class T> inline std::atomic_ref<T> atomic_at(T* p, const char* what) {
    if (reinterpret_cast<uintptr_t>(p) % alignof(T) != 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%p", (void*) p);
        fault(std::string(what) + ": misaligned address " + buf);
    }
    return std::atomic_ref<T>(*p);
}

template <class T, class F> inline T atomic_update(T* p, const char* what, F f) {
    auto a = atomic_at(p, what);
    T old = a.load();
    while (!a.compare_exchange_weak(old, f(old))) {
    }
    return old;
}

}  // namespace emu

#define EMU_ATOMIC_ADD(T)                                                                                       \
    inline T atomicAdd(T* p, T v) { return emu::atomic_at(p, "atomicAdd").fetch_add(v); }                      \
    inline T atomicAdd_block(T* p, T v) { return atomicAdd(p, v); }                                              \
    inline T atomicAdd_system(T* p, T v) { return atomicAdd(p, v); }
EMU_ATOMIC_ADD(int)
EMU_ATOMIC_ADD(unsigned)
EMU_ATOMIC_ADD(unsigned long long)
EMU_ATOMIC_ADD(float)
EMU_ATOMIC_ADD(double)
#undef EMU_ATOMIC_ADD

inline int atomicSub(int* p, int v) { return emu::atomic_at(p, "atomicSub").fetch_sub(v); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return emu::atomic_at(p, "atomicSub").fetch_sub(v); }

#define EMU_ATOMIC_BITS(T)                                                                                      \
    inline T atomicExch(T* p, T v) { return emu::atomic_at(p, "atomicExch").exchange(v); }                     \
    inline T atomicCAS(T* p, T expected, T desired) {                                                             \
        emu::atomic_at(p, "atomicCAS").compare_exchange_strong(expected, desired);                                 \
        return expected;                                                                                          \
    }                                                                                                             \
    inline T atomicAnd(T* p, T v) { return emu::atomic_at(p, "atomicAnd").fetch_and(v); }                      \
    inline T atomicOr(T* p, T v) { return emu::atomic_at(p, "atomicOr").fetch_or(v); }                         \
    inline T atomicXor(T* p, T v) { return emu::atomic_at(p, "atomicXor").fetch_xor(v); }
EMU_ATOMIC_BITS(int)
EMU_ATOMIC_BITS(unsigned)
EMU_ATOMIC_BITS(unsigned long long)
#undef EMU_ATOMIC_BITS

inline float atomicExch(float* p, float v) { return emu::atomic_at(p, "atomicExch").exchange(v); }

#define EMU_ATOMIC_MINMAX(T)                                                                                    \
    inline T atomicMax(T* p, T v) { return emu::atomic_update(p, "atomicMax", [v](T o) { return o < v ? v : o; }); } \
    inline T atomicMin(T* p, T v) { return emu::atomic_update(p, "atomicMin", [v](T o) { return v < o ? v : o; }); }
EMU_ATOMIC_MINMAX(int)
EMU_ATOMIC_MINMAX(unsigned)
EMU_ATOMIC_MINMAX(long long)
EMU_ATOMIC_MINMAX(unsigned long long)
#undef EMU_ATOMIC_MINMAX

// ((old >= limit) ? 0 : old + 1) and (((old == 0) || (old > limit)) ? limit : old - 1), as the CUDA guide defines them
inline unsigned atomicInc(unsigned* p, unsigned limit) {
    return emu::atomic_update(p, "atomicInc", [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
    return emu::atomic_update(p, "atomicDec", [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}

// Blocks run one after another, so a fence orders nothing that the barriers have not ordered already.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }

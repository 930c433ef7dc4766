// registry.h: the emulator's kernel table. Each family's generated registration (rewrite.py writes
// <family>.kernels.inc) calls make_kernel with the kernel's function pointer, so the argument kinds come from the
// C++ parameter types themselves: pointer -> 0, 32-bit integer -> 1, 64-bit integer -> 2, float -> 3 (the protocol's
// kinds, and KernelArgs' ptr / i32 / i64 / f32). Any other parameter type fails the build.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace emu {

enum class ArgKind : uint8_t { Pointer = 0, Int32 = 1, Int64 = 2, Float32 = 3 };

const char* kind_name(ArgKind k);   // "pointer (ptr)", ...

struct KernelInfo {
    std::string name;
    std::string family;
    std::vector<ArgKind> kinds;
    std::vector<std::string> params;   // the C declarations, for messages: "const float* a"
    std::vector<uint32_t> alignment;   // a pointer parameter's pointee alignment (1 for void), else 0
    unsigned max_threads = 1024;       // __launch_bounds__' first argument, 1024 without one
    void (*invoke)(void (*fn)(), const uint64_t* args) = nullptr;
    void (*fn)() = nullptr;
    std::string signature() const;     // "(const float* a, ...)"
};

template <class P> struct dependent_false : std::false_type {};

template <class P> constexpr ArgKind kind_of() {
    if constexpr (std::is_pointer_v<P>) return ArgKind::Pointer;
    else if constexpr (std::is_same_v<P, float>) return ArgKind::Float32;
    else if constexpr (std::is_integral_v<P> && !std::is_same_v<P, bool> && sizeof(P) == 4) return ArgKind::Int32;
    else if constexpr (std::is_integral_v<P> && sizeof(P) == 8) return ArgKind::Int64;
    else static_assert(dependent_false<P>::value, "kernel parameter type has no protocol kind (ptr, i32, i64, f32)");
}

template <class P> constexpr uint32_t alignment_of() {
    if constexpr (!std::is_pointer_v<P>) return 0;
    else if constexpr (std::is_void_v<std::remove_cv_t<std::remove_pointer_t<P>>>) return 1;
    else return alignof(std::remove_pointer_t<P>);
}

template <class P> inline P arg_from_bits(uint64_t raw) {
    if constexpr (std::is_pointer_v<P>) {
        return reinterpret_cast<P>(static_cast<uintptr_t>(raw));
    } else if constexpr (std::is_same_v<P, float>) {
        uint32_t b = static_cast<uint32_t>(raw);
        float f;
        std::memcpy(&f, &b, 4);
        return f;
    } else if constexpr (sizeof(P) == 4) {
        return static_cast<P>(static_cast<uint32_t>(raw));
    } else {
        return static_cast<P>(raw);
    }
}

template <class... P, std::size_t... I>
inline void invoke_with(void (*fn)(), const uint64_t* args, std::index_sequence<I...>) {
    reinterpret_cast<void (*)(P...)>(fn)(arg_from_bits<P>(args[I])...);
}

template <class... P> inline void invoke_kernel(void (*fn)(), const uint64_t* args) {
    invoke_with<P...>(fn, args, std::index_sequence_for<P...>{});
}

template <class... P>
inline KernelInfo make_kernel(const char* name, void (*fn)(P...), long max_threads,
                              std::initializer_list<const char*> params) {
    KernelInfo k;
    k.name = name;
    k.kinds = {kind_of<P>()...};
    k.alignment = {alignment_of<P>()...};
    for (const char* p : params) k.params.emplace_back(p);
    k.max_threads = max_threads > 0 ? static_cast<unsigned>(max_threads) : 1024u;
    k.invoke = &invoke_kernel<P...>;
    k.fn = reinterpret_cast<void (*)()>(fn);
    return k;
}

// Called from each family's static initialiser; problems (a parameter-name count that does not match, a name
// registered twice) are reported by registry_problems() so that `cuda_emulator --list` fails the build.
bool register_family(const char* family, std::vector<KernelInfo> kernels);
const std::vector<std::string>& registry_problems();
const KernelInfo* find_kernel(const std::string& name);
std::vector<const KernelInfo*> all_kernels();

// "" when kinds / values match the kernel's signature; else the first problem, naming the kernel, the position,
// the parameter and what was expected. inside_allocation(p) says whether a non-null pointer lies in an allocation.
std::string check_arguments(const KernelInfo& k, const std::vector<uint8_t>& kinds, const std::vector<uint64_t>& values,
                            const std::function<bool(uint64_t)>& inside_allocation);

}  // namespace emu

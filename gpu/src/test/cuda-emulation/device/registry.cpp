// registry.cpp: the kernel table (filled by each family's static registration) and the check of a launch's
// arguments against a kernel's C signature.
#include "registry.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <mutex>

namespace emu {
namespace {

struct Table {
    std::mutex mu;
    std::map<std::string, KernelInfo> kernels;
    std::vector<std::string> problems;
};

Table& table() {
    static Table t;   // function-local: safe whatever the order of the families' static initialisers
    return t;
}

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

}  // namespace

const char* kind_name(ArgKind k) {
    switch (k) {
        case ArgKind::Pointer: return "a pointer (kind 0, KernelArgs.ptr)";
        case ArgKind::Int32: return "an int32 (kind 1, KernelArgs.i32)";
        case ArgKind::Int64: return "an int64 (kind 2, KernelArgs.i64)";
        case ArgKind::Float32: return "a float32 (kind 3, KernelArgs.f32)";
    }
    return "?";
}

static const char* short_kind(uint8_t k) {
    switch (k) {
        case 0: return "ptr";
        case 1: return "i32";
        case 2: return "i64";
        case 3: return "f32";
    }
    return "?";
}

std::string KernelInfo::signature() const {
    std::string s = "(";
    for (size_t i = 0; i < params.size(); i++) s += (i ? ", " : "") + params[i];
    return s + ")";
}

bool register_family(const char* family, std::vector<KernelInfo> kernels) {
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    for (KernelInfo& k : kernels) {
        k.family = family;
        if (k.params.size() != k.kinds.size()) {
            t.problems.push_back(family + std::string(": kernel ") + k.name + " has " + std::to_string(k.kinds.size()) +
                                 " parameters but the scan found " + std::to_string(k.params.size()) + " names");
        }
        auto [it, fresh] = t.kernels.emplace(k.name, k);
        if (!fresh) {
            t.problems.push_back("kernel " + k.name + " is defined by both " + it->second.family + " and " + family);
        }
    }
    return true;
}

const std::vector<std::string>& registry_problems() { return table().problems; }

const KernelInfo* find_kernel(const std::string& name) {
    Table& t = table();
    auto it = t.kernels.find(name);
    return it == t.kernels.end() ? nullptr : &it->second;
}

std::vector<const KernelInfo*> all_kernels() {
    std::vector<const KernelInfo*> r;
    for (auto& [name, k] : table().kernels) r.push_back(&k);
    return r;
}

std::string check_arguments(const KernelInfo& k, const std::vector<uint8_t>& kinds, const std::vector<uint64_t>& values,
                            const std::function<bool(uint64_t)>& inside_allocation) {
    const std::string who = "kernel " + k.name;
    if (kinds.size() != k.kinds.size()) {
        std::string passed;
        for (size_t i = 0; i < kinds.size(); i++) passed += std::string(i ? ", " : "") + short_kind(kinds[i]);
        return who + " takes " + std::to_string(k.kinds.size()) + " arguments " + k.signature() + " but the launch passed " +
               std::to_string(kinds.size()) + " (" + passed + ")";
    }
    for (size_t i = 0; i < kinds.size(); i++) {
        const std::string where = who + ": argument " + std::to_string(i + 1) + " of " + std::to_string(kinds.size()) +
                                  " (" + (i < k.params.size() ? k.params[i] : std::string("?")) + ")";
        if (kinds[i] > 3) return where + ": unknown argument kind " + std::to_string(kinds[i]);
        if (static_cast<ArgKind>(kinds[i]) != k.kinds[i]) {
            return where + " expects " + kind_name(k.kinds[i]) + ", the launch passed " +
                   kind_name(static_cast<ArgKind>(kinds[i]));
        }
        if (k.kinds[i] == ArgKind::Pointer && values[i] != 0) {
            if (!inside_allocation(values[i])) {
                return where + ": pointer " + hex(values[i]) + " is not inside any device allocation";
            }
            if (values[i] % k.alignment[i] != 0) {
                return where + ": pointer " + hex(values[i]) + " is not aligned to " + std::to_string(k.alignment[i]) +
                       " bytes";
            }
        }
    }
    return "";
}

}  // namespace emu

package io.inflow.gpu.bench;

import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The nominal FP32 peak of the cores a CPU benchmark uses: threads x clock x SIMD lanes x 2 FMA pipes x 2 FLOPs per
 * FMA. The clock is the highest the kernel reports (cpufreq max, else /proc/cpuinfo's current MHz), the lanes are
 * the Vector API's preferred float species. It is a ceiling to compare against, not a measurement: CPUs that split
 * 512-bit FMAs (AMD Zen 4) reach half of it, and turbo clocks can exceed the reported one.
 */
final class CpuPeak {

    /** FMA execution pipes assumed per core (two on current x86 server cores). */
    static final int FMA_PIPES = 2;

    final double ghz;
    final int lanes;
    final int threads;

    private CpuPeak(double ghz, int lanes, int threads) {
        this.ghz = ghz;
        this.lanes = lanes;
        this.threads = threads;
    }

    static CpuPeak of(int threads) {
        return new CpuPeak(clockGhz(), FloatVector.SPECIES_PREFERRED.length(), threads);
    }

    double gflops() {
        return threads * ghz * lanes * FMA_PIPES * 2;
    }

    String describe() {
        return String.format("nominal FP32 peak of %d thread(s): %.0f GFLOP/s (%.2f GHz x %d lanes x %d FMA pipes x 2)",
                threads, gflops(), ghz, lanes, FMA_PIPES);
    }

    private static double clockGhz() {
        try {
            Path max = Path.of("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
            if (Files.exists(max)) {
                return Long.parseLong(Files.readString(max).strip()) / 1e6;
            }
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("cpu MHz")) {
                    return Double.parseDouble(line.substring(line.indexOf(':') + 1).strip()) / 1e3;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return Double.NaN;
    }
}

@testable import ResourceControl
import Testing

/// One policy, two kernel vocabularies.
@Suite("CPU limits translated")
struct CPULimitsTests {
    @Test("a cap in percent of a core becomes a quota per 100 ms period")
    func quota() {
        #expect(CPULimits(quotaPercentOfOneCore: 50).quotaMicroseconds == 50_000)
        #expect(CPULimits(quotaPercentOfOneCore: 150).cpuMax == "150000 100000")
        #expect(CPULimits().cpuMax == "max 100000")
        #expect(CPULimits().quotaMicroseconds == nil)
        #expect(CPULimits(quotaPercentOfOneCore: 0.2).quotaMicroseconds == 1000, "the kernel's minimum is 1 ms")
        #expect(CPULimits(quotaPercentOfOneCore: .nan).quotaMicroseconds == nil)
    }

    @Test("the v2 weight maps to v1 shares: 100 is 1024, never below 2")
    func shares() {
        #expect(CPULimits().shares == 1024)
        #expect(CPULimits(weight: 20).shares == 205)
        #expect(CPULimits(weight: 1).shares == 10)
        #expect(CPULimits(weight: 10_000).shares == 102_400)
        #expect(CPULimits(weight: 0).effectiveWeight == 1)
        #expect(CPULimits(weight: 50_000).effectiveWeight == 10_000)
    }

    @Test("the cap reads in words")
    func words() {
        #expect(CPULimits(quotaPercentOfOneCore: 50).capInWords == "cap 50% of a core")
        #expect(CPULimits(quotaPercentOfOneCore: 12.5).capInWords == "cap 12.5% of a core")
        #expect(CPULimits().capInWords == "no cap")
    }
}

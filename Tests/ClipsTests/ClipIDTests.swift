import Clips
import Testing

@Suite struct ClipIDTests {
  @Test func theDocumentedPattern() {
    for good in ["a", "hair-sway", "mixed_01", "v1.2", "A9", String(repeating: "x", count: 64)] {
      #expect(ClipID.problem(good) == nil, "\(good)")
    }
    #expect(ClipID.problem("")?.hasPrefix("is empty") == true)
    #expect(ClipID.problem(".")?.contains("starts with '.'") == true)
    #expect(ClipID.problem("..")?.contains("starts with '.'") == true)
    #expect(ClipID.problem(".git")?.contains("starts with '.'") == true)
    #expect(ClipID.problem(String(repeating: "x", count: 65))?.contains("is 65 characters long") == true)
    for bad in ["a/b", "a b", "caf\u{E9}", "a\\b", "a:b", "a\0", "x\n"] {
      #expect(ClipID.problem(bad)?.contains("outside the allowed set") == true, "\(bad)")
    }
  }

  @Test func pathsFromIDsStayInTheirFolder() throws {
    #expect(try ClipID.path("clip-1", in: "/run/clips") == "/run/clips/clip-1")
    #expect(throws: (any Error).self) { try ClipID.path("..", in: "/run/clips") }
    #expect(throws: (any Error).self) { try ClipID.path("a/../../b", in: "/run/clips") }
  }
}

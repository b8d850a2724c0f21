import Foundation
import MediaIO
import TestSupport
import Testing

/// The checks every input passes before it is opened (issue 24), one by one.
@Suite struct InputChecksTests {
  @Test func frameSizeLimits() {
    #expect(InputLimits.problem(width: 1, height: 1) == nil)
    #expect(InputLimits.problem(width: 7680, height: 4320) == nil)
    #expect(InputLimits.problem(width: 8192, height: 8192) == nil)
    #expect(InputLimits.problem(width: 0, height: 5)?.contains("is empty") == true)
    #expect(InputLimits.problem(width: 16385, height: 2)?.contains("16384-pixel limit per side") == true)
    // Within the per-side limit but over the area limit: 16384 × 8193 > 2^26.
    #expect(InputLimits.problem(width: 16384, height: 8193)?.contains("beyond the limit of 67108864") == true)
  }

  @Test func specialFilesAreRefusedBeforeOpening() throws {
    let dir = try temporaryFolder()
    let fifo = dir + "/pipe"
    #expect(mkfifo(fifo, 0o600) == 0)
    #expect(
      throws: MediaError(
        path: fifo, reason: "is a FIFO (named pipe), not a regular file; mattegate reads only regular files")
    ) {
      try InputFile.check(fifo)
    }
    // Through a symbolic link too.
    try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: fifo)
    #expect(throws: MediaError.self) { try InputFile.check(dir + "/link") }
    #expect(
      throws: MediaError(
        path: "/dev/null", reason: "is a device, not a regular file; mattegate reads only regular files")
    ) {
      try InputFile.check("/dev/null")
    }
    #expect(throws: MediaError(path: dir, reason: "is a folder, not a file")) { try InputFile.check(dir) }
    #expect(try InputFile.check(dir, allowFolder: true) == .folder)
    #expect(throws: MediaError(path: dir + "/none", reason: "no such file or folder")) {
      try InputFile.check(dir + "/none")
    }
    let file = dir + "/f"
    try Data(count: 10).write(to: URL(fileURLWithPath: file))
    #expect(try InputFile.check(file) == .file(size: 10))
    #expect(throws: MediaError.self) { try InputFile.regularFile(file, maxBytes: 9) }
    // A socket.
    let socketPath = dir + "/s"
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(bound == 0)
    #expect(
      throws: MediaError(
        path: socketPath, reason: "is a socket, not a regular file; mattegate reads only regular files")
    ) {
      try InputFile.check(socketPath)
    }
    // The readers refuse them the same way: MediaInput, hashing, PNG.
    #expect(throws: MediaError.self) { try MediaInput.open(fifo, options: ReadOptions(rgb: .eight)) }
    #expect(throws: MediaError.self) { try FileHash.sha256(ofFile: fifo) }
    #expect(throws: MediaError.self) { try PNGFile.readRGB(fifo) }
    #expect(throws: MediaError.self) { try SafeZip(path: fifo) }
    #expect(throws: MediaError.self) { try StreamTiming(path: fifo) }
  }

  @Test func pathsBuiltFromNamesStayInside() throws {
    #expect(try SafePath.child("clip-1", of: "/r/clips") == "/r/clips/clip-1")
    for bad in ["..", ".", "", "a/b", "../x", "a\0b"] {
      #expect(throws: MediaError.self, "\(bad)") { try SafePath.child(bad, of: "/r/clips") }
    }
    #expect(throws: MediaError.self) { try SafePath.requireInside("/r/clips/../x", folder: "/r/clips") }
    #expect(throws: MediaError.self) { try SafePath.requireInside("/r/clips", folder: "/r/clips") }
    try SafePath.requireInside("/r/clips/a/../b", folder: "/r/clips")
  }

  /// Frames counted from packets agree with a decode, and with what the CLI wrote.
  @Test func streamTimingCountsFramesWithoutDecoding() throws {
    let dir = try temporaryFolder()
    for (name, codec) in [
      ("a.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "2"]), ("b.mkv", ["-c:v", "ffv1"]),
    ] {
      let path = dir + "/" + name
      try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc=size=32x16:rate=25", "-frames:v", "7"] + codec + [path])
      let timing = try StreamTiming(path: path)
      #expect(timing.frames == 7)
      #expect(timing.frameRate == 25)
      #expect(abs(timing.times[6] - timing.times[0] - 6 * 0.04) < 1e-6)
    }
  }

  @Test func convertedFramesAreExactAtEveryTinySizeAndFormat() throws {
    // yuv420p (the 2×2 crash), 4:4:4 and 10-bit sources, to 8- and 16-bit RGB, odd and even.
    let dir = try temporaryFolder()
    for n in [1, 2, 3, 4, 5, 8, 13, 16, 17] {
      for (format, codec) in [("yuv444p", "libx264"), ("yuv420p10le", "ffv1"), ("yuv420p", "libvpx-vp9")] {
        let path = dir + "/\(n)-\(format).mkv"
        try FFmpegCLI.run([
          "-f", "lavfi", "-i", "testsrc=size=\(n)x\(n):rate=25", "-frames:v", "2", "-pix_fmt", format, "-c:v", codec,
          path,
        ])
        let eight = try MediaInput.open(path, options: ReadOptions(rgb: .eight))
        var ours: [UInt8] = []
        while let f = try eight.nextFrame() { ours += f.rgb!.pixels }
        #expect(firstMismatch(ours, try FFmpegCLI.raw8(["-i", path], pixelFormat: "rgb24")) == nil, "\(n) \(format)")
        let sixteen = try MediaInput.open(path, options: ReadOptions(rgb: .sixteen))
        var deep: [UInt16] = []
        while let f = try sixteen.nextFrame() { deep += f.rgb16!.samples }
        #expect(
          firstMismatch(deep, try FFmpegCLI.raw16(["-i", path], pixelFormat: "rgb48le")) == nil, "\(n) \(format)")
      }
    }
  }
}

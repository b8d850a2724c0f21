import Foundation
import MediaIO
import TestSupport
import Testing

@Suite struct ExtractTests {
  /// PNG header facts: (bit depth, colour type) from IHDR.
  func pngDepthAndType(_ path: String) throws -> (Int, Int) {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)).prefix(26))
    return (Int(bytes[24]), Int(bytes[25]))
  }

  @Test func proResFramesBecome16BitPNGsEqualToTheCLIsDecode() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (media, cli) = try OutputFormat.movProRes4444.make(in: dir)
    let out = dir + "/frames"
    let summary = try FrameExtractor.extract(media: media, to: out, planes: .both, every: 2)
    #expect(summary.framesDecoded == 5 && summary.framesWritten == 3)
    #expect(summary.alphaDepth == 12 && summary.rgbDepth == 16)

    // frames.json: index and presentation time per written frame.
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/frames.json")))
    let doc = try #require(json as? [String: Any])
    let frames = try #require(doc["frames"] as? [[String: Any]])
    #expect(frames.map { $0["index"] as? Int } == [0, 2, 4])
    #expect(frames.map { $0["time"] as? Double } == [0, 0.2, 0.4])
    #expect(frames.map { $0["alpha"] as? String } == ["alpha/000000.png", "alpha/000002.png", "alpha/000004.png"])
    #expect(doc["pixel_format"] as? String == "yuva444p12le")

    let alphaPNG = out + "/alpha/000002.png"
    let rgbPNG = out + "/rgb/000002.png"
    #expect(try pngDepthAndType(alphaPNG) == (16, 0))  // 16-bit gray
    #expect(try pngDepthAndType(rgbPNG) == (16, 2))  // 16-bit RGB
    // Alpha: the 12-bit codes of frame 2, scaled to 16 bits as round(v · 65535 / 4095).
    let source = try FFmpegCLI.raw16(cli, filter: "select=eq(n\\,2),extractplanes=a", pixelFormat: "gray12le")
    let written = try FFmpegCLI.raw16(["-i", alphaPNG], pixelFormat: "gray16le")
    let expected = source.map { UInt16((Double($0) * 65535 / 4095).rounded()) }
    #expect(firstMismatch(written, expected) == nil)
    // RGB: the CLI's 16-bit conversion of frame 2, exactly.
    let rgbSource = try FFmpegCLI.raw16(cli, filter: "select=eq(n\\,2)", pixelFormat: "rgb48le")
    let rgbWritten = try FFmpegCLI.raw16(["-i", rgbPNG], pixelFormat: "rgb48le")
    #expect(firstMismatch(rgbWritten, rgbSource) == nil)
  }

  @Test func eightBitSourcesGiveEightBitRGBAndAlphaOnlyWhenAsked() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (media, cli) = try OutputFormat.movQuickTimeAnimation.make(in: dir)
    let rgbOnly = try FrameExtractor.extract(media: media, to: dir + "/rgb", planes: .rgb)
    #expect(rgbOnly.rgbDepth == 8 && rgbOnly.alphaDepth == 0 && rgbOnly.framesWritten == 5)
    #expect(!FileManager.default.fileExists(atPath: dir + "/rgb/alpha"))
    #expect(try pngDepthAndType(dir + "/rgb/rgb/000004.png") == (8, 2))
    let written = try FFmpegCLI.raw8(["-i", dir + "/rgb/rgb/000004.png"], pixelFormat: "rgb24")
    let source = try FFmpegCLI.raw8(cli, filter: "select=eq(n\\,4)", pixelFormat: "rgb24")
    #expect(firstMismatch(written, source) == nil)
    // An H.264 composite has no alpha: asking for it is an error naming the file and the format.
    let (mp4, _) = try OutputFormat.mp4H264.make(in: dir)
    let error = #expect(throws: MediaError.self) {
      _ = try FrameExtractor.extract(media: mp4, to: dir + "/a", planes: .alpha)
    }
    #expect(error?.path == mp4 && error?.reason.contains("has no alpha channel (pixel format yuv420p)") == true)
  }
}

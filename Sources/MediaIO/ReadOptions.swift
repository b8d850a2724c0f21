/// A picture size in pixels.
public struct PixelSize: Sendable, Equatable, CustomStringConvertible {
  public var width: Int
  public var height: Int

  public init(width: Int, height: Int) {
    self.width = width
    self.height = height
  }

  public var description: String { "\(width)x\(height)" }
}

/// What the reader extracts besides RGB.
public enum AlphaSource: Sendable, Equatable {
  /// No alpha.
  case none
  /// The pixel format's alpha channel (always full range); an error if the stream has none.
  case alphaChannel
  /// The first component (luma or gray) exactly as stored, for ground-truth mattes and masks.
  case luma
  /// The luma of a matte video (a `pro_bundle`'s alpha.mp4): a YUV stream flagged limited range
  /// (or unflagged) is expanded from 16…235 (scaled to its depth) to 0…65535, clamped; a
  /// full-range or gray stream is returned as stored.
  case matteLuma
}

/// How colour is delivered.
public enum RGBDepth: Sendable, Equatable {
  /// No RGB picture.
  case none
  /// 8 bits per channel (`RGBImage`).
  case eight
  /// 16 bits per channel (`RGB16Image`), for 10–16-bit sources.
  case sixteen
}

/// Whether the colour of an output with alpha is straight or premultiplied by alpha.
public enum AlphaAssociation: String, Sendable, Equatable, CaseIterable {
  case straight
  case premultiplied
}

/// What a reader delivers for each frame and how.
public struct ReadOptions: Sendable, Equatable {
  public var rgb: RGBDepth
  public var alpha: AlphaSource
  /// With `.premultiplied`, RGB is divided by alpha (rounded, clamped) so callers always get
  /// straight colour; ignored when no alpha is read.
  public var association: AlphaAssociation
  /// Resample every frame to this size (after rotation) instead of the stored size.
  public var targetSize: PixelSize?
  /// Reduce to `targetSize` by area averaging, each plane on its own (8-bit planar YUV and
  /// gray, shrinking in both directions), instead of swscale's bicubic filter: for previews,
  /// where it costs a fraction and aliases less. Other formats and enlargements stay bicubic.
  /// Never for pictures that are scored.
  public var areaDownscale = false
  /// Frame rate for image sequences, whose files carry no timestamps (frames per second).
  public var sequenceFrameRate: Double
  /// Apply the container's rotation metadata (display matrix), as players do.
  public var applyRotation: Bool
  /// Decoder threads: 0 lets FFmpeg use every core (as the ffmpeg CLI does); 1 decodes on the
  /// calling thread, which costs less CPU when every core already has a clip to work on.
  /// Decoders are bit-exact whatever the count.
  public var decoderThreads: Int

  public init(
    rgb: RGBDepth = .eight, alpha: AlphaSource = .none, association: AlphaAssociation = .straight,
    targetSize: PixelSize? = nil, sequenceFrameRate: Double = 25, applyRotation: Bool = true,
    decoderThreads: Int = 0
  ) {
    self.rgb = rgb
    self.alpha = alpha
    self.association = association
    self.targetSize = targetSize
    self.sequenceFrameRate = sequenceFrameRate
    self.applyRotation = applyRotation
    self.decoderThreads = max(0, decoderThreads)
  }
}

/// One decoded frame, copied out of FFmpeg into Swift-owned values.
public struct DecodedFrame: Sendable {
  /// Output order, from 0.
  public var index: Int
  /// Presentation time in seconds (best-effort timestamp × stream time base).
  public var time: Double
  /// The picture as 8-bit RGB, converted with the stream's matrix and range, if requested.
  public var rgb: RGBImage?
  /// The picture as 16-bit RGB, if requested.
  public var rgb16: RGB16Image?
  /// The alpha channel (or the luma plane of a matte) at full precision.
  public var alpha: GrayImage?

  public init(index: Int, time: Double, rgb: RGBImage? = nil, rgb16: RGB16Image? = nil, alpha: GrayImage? = nil) {
    self.index = index
    self.time = time
    self.rgb = rgb
    self.rgb16 = rgb16
    self.alpha = alpha
  }
}

/// Anything that yields decoded frames in presentation order: a video file, an image sequence
/// (folder or ZIP), a `pro_bundle`. Not `Sendable`: one reader per task.
public protocol FrameSource: AnyObject {
  /// What the user named (file, folder or archive).
  var path: String { get }
  /// Size of delivered frames (after rotation and any resampling).
  var size: PixelSize { get }
  /// Size as stored, before rotation and resampling.
  var storedSize: PixelSize { get }
  /// Nominal frames per second (0 if unknown).
  var frameRate: Double { get }
  /// A short description of the format and decoder, for provenance.
  var formatDescription: String { get }
  /// Depth and channels of the stored pictures.
  var layout: PixelLayout { get }
  /// The next frame, or `nil` at the end.
  func nextFrame() throws(MediaError) -> DecodedFrame?
}

/// What a stream's pictures hold, from its pixel format.
public struct PixelLayout: Sendable, Equatable {
  /// Bits per sample of the first (colour or luma) component.
  public var colorDepth: Int
  /// Bits per alpha sample (0 without alpha).
  public var alphaDepth: Int
  /// One component only (a matte or mask stored as gray).
  public var isGray: Bool
  /// The pixel format's name, for example `yuva444p12le`.
  public var pixelFormat: String

  public var hasAlpha: Bool { alphaDepth > 0 }

  public init(colorDepth: Int, alphaDepth: Int, isGray: Bool, pixelFormat: String) {
    self.colorDepth = colorDepth
    self.alphaDepth = alphaDepth
    self.isGray = isGray
    self.pixelFormat = pixelFormat
  }
}

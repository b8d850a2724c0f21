import MediaIO
import Testing

@testable import Report

/// The heatmap's colours and the worst-window crop, against values worked out by hand.
@Suite struct ReviewImagesTests {
  @Test func colourMapHitsItsStopsAndMixesBetweenThem() {
    // Scale 0…0.5: t = e / 0.5.
    #expect(ReviewImages.colour(error: 0) == (0, 0, 0))
    #expect(ReviewImages.colour(error: 0.125) == (87, 16, 110))  // t = 0.25, stop 1
    #expect(ReviewImages.colour(error: 0.25) == (188, 55, 84))  // t = 0.5, stop 2
    #expect(ReviewImages.colour(error: 0.5) == (252, 255, 164))  // t = 1, last stop
    #expect(ReviewImages.colour(error: 0.9) == (252, 255, 164))  // beyond the scale
    // t = 0.125: halfway from black to (87, 16, 110): 43.5 → 44, 8, 55.
    #expect(ReviewImages.colour(error: 0.0625) == (44, 8, 55))
    // t = 0.625: halfway from (188, 55, 84) to (249, 142, 9): 218.5 → 219, 98.5 → 99, 46.5 → 47.
    #expect(ReviewImages.colour(error: 0.3125) == (219, 99, 47))
  }

  @Test func heatmapColoursTheAbsoluteError() {
    // 8-bit prediction against 16-bit truth: errors 0, 1, 0.25 (64/255 against 0.00097…) and
    // 0.5 − 1/510.
    let p = GrayImage(width: 4, height: 1, maxValue: 255, samples: [0, 255, 64, 128])
    let g = GrayImage(width: 4, height: 1, maxValue: 65535, samples: [0, 0, 64, 65535])
    let map = ReviewImages.heatmap(prediction: p, truth: g)
    #expect(map.width == 4 && map.height == 1)
    #expect(Array(map.pixels[0..<3]) == [0, 0, 0])
    #expect(Array(map.pixels[3..<6]) == [252, 255, 164])
    for (k, e) in [(2, 64.0 / 255 - 64.0 / 65535), (3, 1 - 128.0 / 255)] {
      let want = ReviewImages.colour(error: e)
      let got = (Int(map.pixels[3 * k]), Int(map.pixels[3 * k + 1]), Int(map.pixels[3 * k + 2]))
      // 1024 levels: within one step of 8-bit colour of the exact mapping.
      #expect(abs(got.0 - Int(want.0)) <= 1 && abs(got.1 - Int(want.1)) <= 1 && abs(got.2 - Int(want.2)) <= 1)
    }
  }

  @Test func worstWindowFindsTheErrorAndCrops() {
    // 8×6, truth 0, A wrong on the 2×2 square at (5, 3)…(6, 4), B right everywhere.
    let (w, h) = (8, 6)
    let zero = GrayImage(width: w, height: h, maxValue: 255, samples: Array(repeating: 0, count: w * h))
    var wrong = zero
    for (x, y) in [(5, 3), (6, 3), (5, 4), (6, 4)] { wrong.samples[y * w + x] = 200 }
    // Every 3×3 window holding the square: x ∈ {4, 5}, y ∈ {2, 3}; the top-left-most wins.
    let fine = ReviewImages.worstWindow(a: wrong, b: zero, truth: zero, width: 3, height: 3, step: 1)
    #expect(fine == ReviewImages.Crop(x: 4, y: 2, width: 3, height: 3))
    // A coarse grid still tries the last position in each direction, (5, 3).
    let coarse = ReviewImages.worstWindow(a: wrong, b: zero, truth: zero, width: 3, height: 3, step: 8)
    #expect(coarse == ReviewImages.Crop(x: 5, y: 3, width: 3, height: 3))
    // A window larger than the frame is the frame.
    let whole = ReviewImages.worstWindow(a: wrong, b: zero, truth: zero, width: 100, height: 100)
    #expect(whole == ReviewImages.Crop(x: 0, y: 0, width: 8, height: 6))
    let piece = ReviewImages.cropped(wrong, fine)
    #expect(piece.samples == [0, 0, 0, 0, 200, 200, 0, 200, 200])
    let rgb = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8($0 % 256) })
    let rgbPiece = ReviewImages.cropped(rgb, ReviewImages.Crop(x: 6, y: 5, width: 2, height: 1))
    #expect(rgbPiece.pixels == (0..<6).map { UInt8((5 * w + 6) * 3 + $0) })
  }
}

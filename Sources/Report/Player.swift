import Foundation

/// What the report's player needs to know about a clip's preview (`preview.json` beside it).
public struct PreviewLayout: Codable, Sendable, Equatable {
  /// The file, relative to the clip's folder.
  public var file: String
  public var tileWidth: Int
  public var tileHeight: Int
  /// Tiles left to right: the arms `A` and `B` (in an order drawn per clip), then `truth`: the
  /// source's colours under each alpha. The player draws the error maps from them.)
  public var tiles: [String]
  /// Frames per second of the preview (the ground truth's rate).
  public var fps: Double
  /// The clip frame shown by each preview frame, in order (scored frames only).
  public var frames: [Int]
  public var bytes: Int
  /// The clip's frame size, which review crops' rectangles are given in.
  public var sourceWidth: Int
  public var sourceHeight: Int

  public init(
    file: String, tileWidth: Int, tileHeight: Int, tiles: [String], fps: Double, frames: [Int], bytes: Int,
    sourceWidth: Int, sourceHeight: Int
  ) {
    self.file = file
    self.tileWidth = tileWidth
    self.tileHeight = tileHeight
    self.tiles = tiles
    self.fps = fps
    self.frames = frames
    self.bytes = bytes
    self.sourceWidth = sourceWidth
    self.sourceHeight = sourceHeight
  }

  public static let tileOrder = ["A", "B", "truth"]
  /// Tiles at most this wide (the report's player size).
  public static let maxTileWidth = 320
  /// The budget the docs state for one clip's preview, per second of clip (320-px tiles):
  /// `bench pipeline` reports each clip's rate against it.
  public static let budgetBytesPerSecond = 250_000
}

/// The clip player: A, the ground truth and B from the clip's preview, in lockstep (they are
/// tiles of one video), over a background the reviewer picks, with the error heatmap as an
/// overlay, frame stepping, a scrub bar, and seeks from the curves and worst-frame links.
extension HTMLReport {
  static func player(_ c: ReportModel.ClipRow, _ m: ReportModel) -> String {
    guard let p = c.preview, let path = c.previewPath else {
      if let w = c.previewWarning { return "<p class=\"warning preview-missing\">\(esc(w))</p>" }
      return ""
    }
    let id = "player-\(c.id)"
    var h = "<section class=\"player\" id=\"\(esc(id))\" tabindex=\"0\" data-clip=\"\(esc(c.id))\""
    h += " data-src=\"\(esc(path))\" data-tw=\"\(p.tileWidth)\" data-th=\"\(p.tileHeight)\""
    h += " data-sw=\"\(p.sourceWidth)\" data-sh=\"\(p.sourceHeight)\" data-fps=\"\(fmt(p.fps, 10))\""
    h +=
      " data-tiles=\"\(esc(p.tiles.joined(separator: ",")))\" data-frames=\"\(p.frames.map(String.init).joined(separator: ","))\""
    // Each region's review window, for highlighting it when a worst frame is opened.
    for r in c.reviews {
      if let rect = r.rect { h += " data-rect-\(esc(r.region))=\"\(rect.map(String.init).joined(separator: ","))\"" }
    }
    h += " data-mode=\"side\" aria-label=\"Player of \(esc(c.id)): A, ground truth and B in step\">"
    h += "<div class=\"controls\">"
    h += "<button type=\"button\" data-act=\"play\" aria-pressed=\"false\">Play</button>"
    h += "<button type=\"button\" data-act=\"prev\" aria-label=\"Previous frame\">◀</button>"
    h += "<button type=\"button\" data-act=\"next\" aria-label=\"Next frame\">▶</button>"
    h += "<span class=\"at\">frame <output>\(p.frames.first ?? 0)</output></span>"
    h += "<input type=\"range\" class=\"scrub\" min=\"0\" max=\"\(max(0, p.frames.count - 1))\" value=\"0\""
    h += " aria-label=\"Frame of \(esc(c.id))\">"
    for (mode, label) in [("side", "Side by side"), ("slider", "Slider"), ("flicker", "Flicker")] {
      h += "<button type=\"button\" data-set-mode=\"\(mode)\" aria-pressed=\"\(mode == "side")\">\(label)</button>"
    }
    h += "<label>over <select class=\"bg\"><option value=\"checker\">checkerboard</option>"
    h += "<option value=\"#000000\">black</option><option value=\"#ffffff\">white</option>"
    for (letter, arm) in [("A", m.a), ("B", m.b)] {
      if let colour = arm.backgroundColour, isHexColour(colour) {
        h += "<option value=\"\(esc(colour))\">\(letter)'s background \(esc(colour))</option>"
      }
    }
    h += "</select></label>"
    h += "<label><input type=\"checkbox\" class=\"heat\"> error heatmap (|α − α_gt| added in orange)</label></div>"
    h += "<div class=\"stage\">"
    for (pane, label) in [("A", "A · \(m.a.name)"), ("truth", "Ground truth"), ("B", "B · \(m.b.name)")] {
      h += "<figure class=\"pane-\(pane)\"><canvas data-pane=\"\(pane)\" width=\"\(p.tileWidth)\""
      h += " height=\"\(p.tileHeight)\"></canvas><figcaption>\(esc(label))</figcaption></figure>"
    }
    h +=
      "<figure class=\"pane-AB\"><canvas data-pane=\"AB\" width=\"\(p.tileWidth * 2)\" height=\"\(p.tileHeight * 2)\">"
    h += "</canvas><figcaption class=\"ab-label\">A | B</figcaption></figure>"
    h += "</div><video muted playsinline preload=\"none\" class=\"source\" aria-hidden=\"true\"></video>"
    h += "<p class=\"keys\">Preview \(p.tileWidth)×\(p.tileHeight), \(p.frames.count) frames at \(fmt(p.fps, 4)) fps, "
    h += "\(p.bytes / 1000) kB. Keys on the player: <kbd>Space</kbd> play/pause, <kbd>←</kbd> <kbd>→</kbd> a frame, "
    h += "<kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd> side by side, slider, flicker, <kbd>F</kbd> flip A/B, "
    h += "<kbd>E</kbd> error heatmap. Click a curve to open its frame here.</p>"
    return h + "</section>"
  }

  static let playerCSS = """
    .player{border:1px solid var(--line);border-radius:6px;padding:8px;margin:10px 0;outline-offset:2px}
    .player .controls{display:flex;flex-wrap:wrap;gap:6px;align-items:center;font-size:12px;margin-bottom:6px}
    .player button{font:inherit;padding:2px 8px;border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
    .player button[aria-pressed=true]{background:#1d2330;color:#fff}.player .scrub{flex:1;min-width:160px}
    .player .stage{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}
    .player canvas{width:100%;display:block;border-radius:4px;border:1px solid var(--line)}
    .player .pane-AB{display:none}.player[data-mode=slider] .stage,.player[data-mode=flicker] .stage{grid-template-columns:1fr}
    .player[data-mode=slider] .stage figure,.player[data-mode=flicker] .stage figure{display:none}
    .player[data-mode=slider] .pane-AB,.player[data-mode=flicker] .pane-AB{display:block;max-width:760px}
    .player[data-mode=slider] canvas{cursor:ew-resize}
    .player{position:relative}.player video.source{position:absolute;left:0;top:0;width:2px;height:2px;opacity:0;pointer-events:none}.curve svg{cursor:pointer}
    """

  /// The players' script: one hidden video per clip, drawn tile by tile into the panes on each
  /// presented frame (so every pane shows the same frame), loaded when its clip is opened.
  static let playerScript = """
    (function(){
    var players={};window.mattegatePlayers=players;
    function make(el){
      var v=el.querySelector('video'),tw=+el.dataset.tw,th=+el.dataset.th,fps=+el.dataset.fps;
      var frames=el.dataset.frames.split(',').map(Number),tiles=el.dataset.tiles.split(',');
      var panes=[].slice.call(el.querySelectorAll('canvas[data-pane]')),scrub=el.querySelector('.scrub');
      var out=el.querySelector('output'),bgSel=el.querySelector('.bg'),heat=el.querySelector('.heat');
      var p={el:el,k:0,split:0.5,show:'A',rect:null,loaded:false};
      var checker=document.createElement('canvas');checker.width=checker.height=16;
      var cx=checker.getContext('2d');cx.fillStyle='#fff';cx.fillRect(0,0,16,16);cx.fillStyle='#ddd';cx.fillRect(0,0,8,8);cx.fillRect(8,8,8,8);
      function load(){if(p.loaded)return;p.loaded=true;v.preload='auto';v.src=el.dataset.src;v.load()}
      function index(t){return Math.max(0,Math.min(frames.length-1,Math.round(t*fps)))}
      function tile(ctx,name,x,y,w,h){var i=tiles.indexOf(name);if(i<0||v.readyState<2)return;
        ctx.drawImage(v,i*tw,0,tw,th,x,y,w,h)}
      function back(ctx,w,h){var b=bgSel.value;ctx.clearRect(0,0,w,h);
        ctx.fillStyle=b==='checker'?ctx.createPattern(checker,'repeat'):b;ctx.fillRect(0,0,w,h)}
      // The error heatmap, |α − α_gt| added in orange-red, made with compositing alone (a video
      // from file:// cannot be read back): each alpha as gray, their difference, tinted.
      var e1=document.createElement('canvas'),e2=document.createElement('canvas');e1.width=e2.width=tw;e1.height=e2.height=th;
      function gray(c,name){var x=c.getContext('2d');x.globalCompositeOperation='source-over';x.fillStyle='#fff';x.fillRect(0,0,tw,th);
        x.globalCompositeOperation='destination-in';tile(x,name,0,0,tw,th);x.globalCompositeOperation='destination-over';
        x.fillStyle='#000';x.fillRect(0,0,tw,th);x.globalCompositeOperation='source-over';return x}
      // The truth's gray is made once per frame shown, for both arms' overlays.
      var truthFor=-1;
      function error(ctx,name,x,y,w,h){var a=gray(e1,name);if(truthFor!==p.k||v.readyState<2){gray(e2,'truth');truthFor=v.readyState<2?-1:p.k}
        a.globalCompositeOperation='difference';a.drawImage(e2,0,0);
        a.globalCompositeOperation='multiply';a.fillStyle='#ff4000';a.fillRect(0,0,tw,th);a.globalCompositeOperation='source-over';
        ctx.save();ctx.globalCompositeOperation='lighter';ctx.drawImage(e1,x,y,w,h);ctx.restore()}
      function arm(ctx,name,x,y,w,h){tile(ctx,name,x,y,w,h);if(heat.checked&&name!=='truth')error(ctx,name,x,y,w,h)}
      function outline(ctx,w,h){if(!p.rect)return;var sx=w/+el.dataset.sw,sy=h/+el.dataset.sh;
        ctx.strokeStyle='#ffd400';ctx.lineWidth=2;ctx.strokeRect(p.rect[0]*sx,p.rect[1]*sy,p.rect[2]*sx,p.rect[3]*sy)}
      function draw(k){p.k=k;var mode=el.dataset.mode;
        panes.forEach(function(c){var ctx=c.getContext('2d'),w=c.width,h=c.height,name=c.dataset.pane;back(ctx,w,h);
          if(name!=='AB'){arm(ctx,name,0,0,w,h)}
          else if(mode==='slider'){var s=Math.round(w*p.split);arm(ctx,'A',0,0,w,h);ctx.save();ctx.beginPath();ctx.rect(s,0,w-s,h);ctx.clip();
            back(ctx,w,h);arm(ctx,'B',0,0,w,h);ctx.restore();ctx.fillStyle='#ffd400';ctx.fillRect(s-1,0,2,h)}
          else{arm(ctx,p.show,0,0,w,h)}
          outline(ctx,w,h);c.dataset.frame=String(frames[k])});
        el.dataset.frame=String(frames[k]);out.textContent=String(frames[k])+(el.dataset.mode==='flicker'?' · showing '+p.show:'');scrub.value=String(k)}
      function redraw(){draw(p.k)}
      function onFrame(now,meta){draw(index(meta.mediaTime));v.requestVideoFrameCallback(onFrame)}
      if(v.requestVideoFrameCallback)v.requestVideoFrameCallback(onFrame);
      else{(function tick(){if(!v.paused)draw(index(v.currentTime));requestAnimationFrame(tick)})()}
      v.addEventListener('seeked',function(){draw(index(v.currentTime-0.5/fps))});
      v.addEventListener('loadeddata',function(){if(!v.seeking)draw(p.k)});
      v.addEventListener('play',function(){el.querySelector('[data-act=play]').setAttribute('aria-pressed','true')});
      v.addEventListener('pause',function(){el.querySelector('[data-act=play]').setAttribute('aria-pressed','false')});
      function seekIndex(k){load();k=Math.max(0,Math.min(frames.length-1,k));v.pause();p.k=k;v.currentTime=(k+0.5)/fps}
      p.seekFrame=function(f,region){var k=0;while(k<frames.length-1&&frames[k]<f)k++;
        var r=region&&el.getAttribute('data-rect-'+region);p.rect=r?r.split(',').map(Number):null;seekIndex(k)};
      p.play=function(){load();p.rect=null;return v.play()};p.pause=function(){v.pause()};p.video=v;p.load=load;
      function mode(m){el.dataset.mode=m;el.querySelectorAll('[data-set-mode]').forEach(function(b){
        b.setAttribute('aria-pressed',String(b.dataset.setMode===m))});redraw()}
      el.querySelector('[data-act=play]').addEventListener('click',function(){v.paused?p.play():v.pause()});
      el.querySelector('[data-act=prev]').addEventListener('click',function(){seekIndex(p.k-1)});
      el.querySelector('[data-act=next]').addEventListener('click',function(){seekIndex(p.k+1)});
      scrub.addEventListener('input',function(){seekIndex(+scrub.value)});
      el.querySelectorAll('[data-set-mode]').forEach(function(b){b.addEventListener('click',function(){mode(b.dataset.setMode)})});
      bgSel.addEventListener('change',redraw);heat.addEventListener('change',redraw);
      var ab=el.querySelector('canvas[data-pane=AB]');
      ab.addEventListener('pointermove',function(e){if(el.dataset.mode!=='slider')return;var r=ab.getBoundingClientRect();
        p.split=Math.max(0,Math.min(1,(e.clientX-r.left)/r.width));redraw()});
      el.addEventListener('keydown',function(e){if(e.ctrlKey||e.metaKey||e.altKey)return;var t=e.target.tagName;
        if(t==='SELECT'||(t==='INPUT'&&e.target.type==='range'&&e.key!==' '))return;var k=e.key;
        if(k===' '){v.paused?p.play():v.pause()}else if(k==='ArrowLeft')seekIndex(p.k-1);else if(k==='ArrowRight')seekIndex(p.k+1);
        else if(k==='1')mode('side');else if(k==='2')mode('slider');else if(k==='3')mode('flicker');
        else if(k==='f'||k==='F'){p.show=p.show==='A'?'B':'A';redraw()}else if(k==='e'||k==='E'){heat.checked=!heat.checked;redraw()}
        else return;e.preventDefault();e.stopPropagation()});
      var body=el.closest('details');if(!body||body.open)load();else body.addEventListener('toggle',function(){if(body.open)load()});
      players[el.dataset.clip]=p}
    document.querySelectorAll('.player').forEach(make);
    function open(clip){var a=document.getElementById('clip-'+clip),d=a&&a.querySelector('details.clip-body');if(d)d.open=true}
    document.addEventListener('click',function(e){
      var s=e.target.closest('svg[data-clip]');
      if(s){var p=players[s.dataset.clip];if(!p)return;var r=s.getBoundingClientRect(),vb=s.viewBox.baseVal;
        var x=(e.clientX-r.left)*vb.width/r.width,left=+s.dataset.left,right=+s.dataset.right;
        var f=Math.round(+s.dataset.lo+(+s.dataset.span)*Math.max(0,Math.min(1,(x-left)/(right-left))));
        open(s.dataset.clip);p.seekFrame(f,null);p.el.focus({preventScroll:true});return}
      var a=e.target.closest('a[data-seek]');
      if(a){var q=players[a.dataset.clip];if(!q)return;e.preventDefault();open(a.dataset.clip);
        q.seekFrame(+a.dataset.seek,a.dataset.region);q.el.scrollIntoView({block:'center'});q.el.focus({preventScroll:true})}});
    })();
    """
}

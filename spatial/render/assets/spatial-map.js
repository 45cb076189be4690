/* spatial-map.js: the runtime of the toolkit's HTML maps. Needs Leaflet and geojson-vt.
 *
 * Every data layer is a FeatureCollection (properties {i: row}) plus a column table,
 * stored as JSON text in the page and parsed only when the layer is first shown.
 * geojson-vt slices it into simplified vector tiles on the fly; each tile is drawn on
 * one canvas, features batched by style.  Clicks are hit-tested against the tile under
 * the pointer.  The page sets window.SPATIAL_READY = true once every layer shown at
 * start has been drawn.  Nothing here reaches the network.
 */
(function () {
  'use strict';
  var EXTENT = 4096, MAX_ZOOM = 18;
  var S = (window.SpatialMap = {popups: {}, timing: {}});
  window.SPATIAL_READY = false;

  function el(tag, text, parent, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  S.el = el;

  function readData(id) {
    var node = document.getElementById(id);
    return JSON.parse(node.textContent);
  }

  function merge(a, b) {
    var out = {}, k;
    for (k in a) out[k] = a[k];
    for (k in b) out[k] = b[k];
    return out;
  }

  var VectorLayer = L.GridLayer.extend({
    initialize: function (spec, options) {
      L.setOptions(this, options);
      this.spec = spec;
      this.filterFn = null;
      this.index = null;
      this.built = false;
    },
    build: function () {
      if (this.built) return this;
      this.built = true;
      var t0 = performance.now();
      var data = readData(this.spec.data);
      var t1 = performance.now();
      var fc = decode(data.parts);
      var t2 = performance.now();
      this.features = fc.features;
      this.byRow = fc.byRow;
      this.cols = data.cols || {};
      var first = Object.keys(this.cols)[0];
      this.nRows = first ? this.cols[first].length : fc.features.length;
      this.fc = fc;
      if (!this.spec.dotsBelow) this.shapes();
      if (this.spec.dotsBelow) {  // level of detail: centre dots when zoomed out
        var dots = fc.features.map(function (f) {
          var b = bbox(f.geometry.coordinates);
          return {type: 'Feature', properties: f.properties,
                  geometry: {type: 'Point', coordinates: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]}};
        });
        this.dotIndex = new GeoJSONVT({type: 'FeatureCollection', features: dots}, {
          maxZoom: this.spec.dotsBelow, indexMaxZoom: 4, tolerance: 2, buffer: 16, extent: EXTENT
        });
      }
      S.timing[this.spec.id] = {parse_ms: t1 - t0, decode_ms: t2 - t1, index_ms: performance.now() - t2};
      return this;
    },
    setFilter: function (fn) {
      this.filterFn = fn;
      if (this._map) this.redraw();
    },
    styleOf: function (i, z) {
      var spec = this.spec, st = spec.style, c = this.cols;
      if (spec.lowZoom && z < spec.lowZoom.below) st = merge(st, spec.lowZoom.style);
      if (spec.classCol && spec.classes) {
        var extra = spec.classes[c[spec.classCol][i]];
        if (extra) st = merge(st, extra);
      }
      if (spec.fillCol && c[spec.fillCol][i]) st = merge(st, {fill: c[spec.fillCol][i]});
      if (spec.strokeCol && c[spec.strokeCol][i]) st = merge(st, {stroke: c[spec.strokeCol][i]});
      return st;
    },
    createTile: function (coords) {
      var tile = L.DomUtil.create('canvas', 'leaflet-tile');
      var size = this.getTileSize(), r = window.devicePixelRatio || 1;
      tile.width = size.x * r;
      tile.height = size.y * r;
      var ctx = tile.getContext('2d');
      ctx.scale(r, r);
      var t0 = performance.now();
      this.drawTile(ctx, coords, size.x / EXTENT);
      var tm = S.timing[this.spec.id];
      if (tm) { tm.draw_ms = (tm.draw_ms || 0) + performance.now() - t0; tm.tiles = (tm.tiles || 0) + 1; }
      return tile;
    },
    shapes: function () {  // the full-shape index; with dots, built when first zoomed in
      if (!this.index) {
        this.index = new GeoJSONVT(this.fc, {
          maxZoom: MAX_ZOOM, indexMaxZoom: 4, tolerance: 2, buffer: 96, extent: EXTENT
        });
      }
      return this.index;
    },
    indexAt: function (z) {
      return this.dotIndex && z < this.spec.dotsBelow ? this.dotIndex : this.shapes();
    },
    drawTile: function (ctx, coords, k) {
      var raw = this.indexAt(coords.z).getTileRaw(coords.z, coords.x, coords.y);
      if (!raw) return;
      var spec = this.spec, feats = raw.features, keep = this.filterFn;
      var batches = {}, order = [], zoomScale = 1;
      if (spec.widthByZoom) zoomScale = Math.max(0.35, Math.min(2.2, Math.pow(2, (coords.z - 15) * 0.7)));
      for (var f = 0; f < feats.length; f++) {
        var ft = feats[f], i = ft.tags.i;
        if (keep && !keep(i)) continue;
        var key = spec.classCol ? this.cols[spec.classCol][i] : '';
        if (spec.fillCol) key += '|' + this.cols[spec.fillCol][i];
        if (spec.strokeCol) key += '|' + this.cols[spec.strokeCol][i];
        var b = batches[key];
        if (!b) {
          var bst = this.styleOf(i, coords.z);
          if ((ft.type === 4 || ft.type === 1) && !bst.radius) bst = merge(bst, {radius: 2.2, weight: 0});
          b = batches[key] = {st: bst, path: new Path2D()};
          b.z = b.st.z || 0;
          b.skip = b.st.minZoom !== undefined && coords.z < b.st.minZoom;
          order.push(key);
        }
        if (b.skip) continue;
        var p = b.path;
        if (ft.type === 4) {
          p.moveTo(ft.x * k + b.st.radius, ft.y * k);
          p.arc(ft.x * k, ft.y * k, b.st.radius, 0, 2 * Math.PI);
        } else if (ft.type === 1) {
          var g = ft.geometry;
          for (var q = 0; q < g.length; q += 2) {
            p.moveTo(g[q] * k + b.st.radius, g[q + 1] * k);
            p.arc(g[q] * k, g[q + 1] * k, b.st.radius, 0, 2 * Math.PI);
          }
        } else {
          var rings = ft.geometry;
          for (var rr = 0; rr < rings.length; rr++) {
            var ring = rings[rr];
            p.moveTo(ring[0] * k, ring[1] * k);
            for (var v = 2; v < ring.length; v += 2) p.lineTo(ring[v] * k, ring[v + 1] * k);
            if (ft.type === 3) p.closePath();
          }
        }
      }
      order.sort(function (a, b2) { return batches[a].z - batches[b2].z; });
      for (var o = 0; o < order.length; o++) {
        var bt = batches[order[o]], st = bt.st;
        if (st.casing) {
          ctx.globalAlpha = 1;
          ctx.lineWidth = (st.weight + 2) * zoomScale;
          ctx.strokeStyle = st.casing;
          ctx.lineCap = ctx.lineJoin = 'round';
          ctx.stroke(bt.path);
        }
        if (st.fill) {
          ctx.globalAlpha = st.fillOpacity === undefined ? 1 : st.fillOpacity;
          ctx.fillStyle = st.fill;
          ctx.fill(bt.path, 'evenodd');
        }
        if (st.stroke && st.weight > 0) {
          ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
          ctx.lineWidth = st.weight * (spec.widthByZoom ? zoomScale : 1);
          ctx.strokeStyle = st.stroke;
          ctx.lineCap = ctx.lineJoin = 'round';
          ctx.setLineDash(st.dash || []);
          ctx.stroke(bt.path);
          ctx.setLineDash([]);
        }
      }
      ctx.globalAlpha = 1;
      if (spec.label && coords.z >= spec.label.minZoom) this.drawLabels(ctx, feats, k);
    },
    drawLabels: function (ctx, feats, k) {
      var lab = this.spec.label, names = this.cols[lab.col], boxes = [], keep = this.filterFn;
      ctx.font = lab.font || '12px sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.lineWidth = 3;
      ctx.strokeStyle = lab.halo || '#fff';
      ctx.fillStyle = lab.colour || '#444';
      var seen = {};
      for (var f = 0; f < feats.length; f++) {
        var ft = feats[f], i = ft.tags.i, text = names[i];
        if (!text || seen[text] || (keep && !keep(i))) continue;
        var x, y;
        if (ft.type === 4) { x = ft.x * k; y = ft.y * k; }
        else {
          var ring = ft.type === 1 ? ft.geometry : ft.geometry[0];
          if (ft.type === 3) {  // an area: the middle of its outline's box
            var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
            for (var q = 0; q < ring.length; q += 2) {
              x0 = Math.min(x0, ring[q]); x1 = Math.max(x1, ring[q]);
              y0 = Math.min(y0, ring[q + 1]); y1 = Math.max(y1, ring[q + 1]);
            }
            x = (x0 + x1) / 2 * k; y = (y0 + y1) / 2 * k;
          } else {
            var m = Math.floor(ring.length / 4) * 2;
            x = ring[m] * k; y = ring[m + 1] * k;
          }
        }
        var w = ctx.measureText(text).width, h = 14;
        var box = [x - w / 2 - 2, y - h / 2, x + w / 2 + 2, y + h / 2];
        if (box[0] < 0 || box[1] < 0 || box[2] > 256 || box[3] > 256) continue;
        var clash = false;
        for (var b = 0; b < boxes.length && !clash; b++) {
          var o = boxes[b];
          clash = !(box[2] < o[0] || box[0] > o[2] || box[3] < o[1] || box[1] > o[3]);
        }
        if (clash) continue;
        boxes.push(box);
        seen[text] = true;
        ctx.strokeText(text, x, y);
        ctx.fillText(text, x, y);
      }
    },
    hit: function (latlng, zoom) {
      if (!this.built || !this._map) return -1;
      var z = Math.max(0, Math.min(MAX_ZOOM, Math.round(zoom)));
      var n = 1 << z, lat = Math.max(-85, Math.min(85, latlng.lat)) * Math.PI / 180;
      var fx = (latlng.lng + 180) / 360 * n;
      var fy = (0.5 - Math.log((1 + Math.sin(lat)) / (1 - Math.sin(lat))) / (4 * Math.PI)) * n;
      var tx = Math.floor(fx), ty = Math.floor(fy);
      var px = (fx - tx) * EXTENT, py = (fy - ty) * EXTENT;
      var raw = this.indexAt(z).getTileRaw(z, tx, ty);
      if (!raw) return -1;
      var tol = 5 * EXTENT / 256, keep = this.filterFn, feats = raw.features;
      for (var f = feats.length - 1; f >= 0; f--) {
        var ft = feats[f], i = ft.tags.i;
        if (keep && !keep(i)) continue;
        if (ft.type === 3 && inRings(ft.geometry, px, py)) return i;
        if (ft.type === 2 && nearLines(ft.geometry, px, py, tol)) return i;
        if (ft.type === 4 && Math.abs(ft.x - px) < tol && Math.abs(ft.y - py) < tol) return i;
      }
      return -1;
    },
    centre: function (i) {
      var coords = [], g = this.byRow[i].geometry;
      (function walk(c) {
        if (typeof c[0] === 'number') coords.push(c); else for (var j = 0; j < c.length; j++) walk(c[j]);
      })(g.coordinates);
      var b = L.latLngBounds(coords.map(function (c) { return [c[1], c[0]]; }));
      return b;
    }
  });

  /* Integer steps and ragged offsets (see spatial/render/page.py) back to GeoJSON. */
  function decode(parts) {
    var features = [], byRow = {};
    parts.forEach(function (p) {
      var c = p.c, s = p.s, n = c.length / 2, xs = new Float64Array(n), ys = new Float64Array(n);
      var x = 0, y = 0, o = p.off, rows = p.rows;
      for (var k = 0; k < n; k++) { x += c[2 * k]; y += c[2 * k + 1]; xs[k] = x / s; ys[k] = y / s; }
      function seq(a, b) {
        var out = new Array(b - a);
        for (var k = a; k < b; k++) out[k - a] = [xs[k], ys[k]];
        return out;
      }
      function rings(a, b) {
        var out = [];
        for (var r = a; r < b; r++) out.push(seq(o[0][r], o[0][r + 1]));
        return out;
      }
      for (var g = 0; g < rows.length; g++) {
        var geom;
        if (p.t === 'Point') geom = {type: 'Point', coordinates: [xs[g], ys[g]]};
        else if (p.t === 'LineString') geom = {type: 'LineString', coordinates: seq(o[0][g], o[0][g + 1])};
        else if (p.t === 'MultiLineString') geom = {type: 'MultiLineString', coordinates: rings(o[1][g], o[1][g + 1])};
        else if (p.t === 'Polygon') geom = {type: 'Polygon', coordinates: rings(o[1][g], o[1][g + 1])};
        else {
          var polys = [];
          for (var q = o[2][g]; q < o[2][g + 1]; q++) polys.push(rings(o[1][q], o[1][q + 1]));
          geom = {type: 'MultiPolygon', coordinates: polys};
        }
        var f = {type: 'Feature', properties: {i: rows[g]}, geometry: geom};
        features.push(f);
        byRow[rows[g]] = f;
      }
    });
    return {type: 'FeatureCollection', features: features, byRow: byRow};
  }

  function bbox(c) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(a) {
      if (typeof a[0] === 'number') {
        if (a[0] < b[0]) b[0] = a[0]; if (a[1] < b[1]) b[1] = a[1];
        if (a[0] > b[2]) b[2] = a[0]; if (a[1] > b[3]) b[3] = a[1];
      } else for (var j = 0; j < a.length; j++) walk(a[j]);
    })(c);
    return b;
  }

  function inRings(rings, x, y) {
    var inside = false;
    for (var r = 0; r < rings.length; r++) {
      var ring = rings[r], n = ring.length;
      for (var a = 0, b = n - 2; a < n; b = a, a += 2) {
        var xa = ring[a], ya = ring[a + 1], xb = ring[b], yb = ring[b + 1];
        if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) inside = !inside;
      }
    }
    return inside;
  }

  function nearLines(rings, x, y, tol) {
    for (var r = 0; r < rings.length; r++) {
      var g = rings[r];
      for (var a = 2; a < g.length; a += 2) {
        var x1 = g[a - 2], y1 = g[a - 1], x2 = g[a], y2 = g[a + 1];
        var dx = x2 - x1, dy = y2 - y1, len = dx * dx + dy * dy;
        var t = len ? Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len)) : 0;
        var ex = x1 + t * dx - x, ey = y1 + t * dy - y;
        if (ex * ex + ey * ey < tol * tol) return true;
      }
    }
    return false;
  }

  /* A popup of labelled fields, every value set as text (nothing from the data is HTML). */
  S.popups.fields = function (layer, i) {
    var spec = layer.spec, c = layer.cols, box = el('div', null, null, 'spatial-popup');
    if (spec.titleCol) el('b', c[spec.titleCol][i], box, 'sp-title');
    var table = el('table', null, box);
    spec.fields.forEach(function (f) {
      var v = c[f[1]][i];
      if (v === null || v === undefined || v === '') return;
      if (f[2] === 'wan') v = v.toLocaleString('zh-CN', {minimumFractionDigits: 1, maximumFractionDigits: 1}) + ' 万元';
      var tr = el('tr', null, table);
      el('th', f[0], tr);
      el('td', v, tr);
    });
    if (spec.linkCol && c[spec.linkCol][i]) {
      var a = el('a', spec.linkText || '打开地图 Open map', el('div', null, box));
      a.setAttribute('href', c[spec.linkCol][i]);
    }
    if (spec.note) el('div', spec.note, box, 'sp-note');
    return box;
  };

  /* The map book's index: a table of units with links to their maps. */
  function indexTable(map, idx) {
    var ctl = L.control({position: 'bottomleft'});
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-index leaflet-bar');
      root.open = true;
      el('summary', idx.title, root);
      var table = el('table', null, root);
      var head = el('tr', null, table);
      idx.headers.forEach(function (h) { el('th', h, head); });
      idx.rows.forEach(function (r) {
        var tr = el('tr', null, table), td = el('td', null, tr);
        var a = el('a', r[0], td);
        a.setAttribute('href', r[1]);
        for (var k = 2; k < r.length; k++) el('td', r[k], tr);
      });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
  }

  function layerPanel(map, cfg, layers) {
    var ctl = L.control({position: 'topright'});
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-panel leaflet-bar');
      root.open = window.innerWidth > 700;
      el('summary', '图层 Layers', root, 'sp-head');
      var body = el('div', null, root, 'sp-body');
      cfg.groups.forEach(function (g) {
        var members = layers.filter(function (l) { return l.spec.group === g.id && !l.spec.hidden; });
        if (!members.length) return;
        var det = el('details', null, body, 'sp-group');
        det.open = !!g.open || members.some(function (l) { return l.spec.show && !l.spec.empty; });
        var sum = el('summary', g.name, det);
        sum.setAttribute('data-group', g.id);
        members.forEach(function (l) {
          var row = el('label', null, det, 'sp-row');
          var box = el('input', null, row);
          box.type = 'checkbox';
          box.checked = !!l.spec.show && !l.spec.empty;
          box.disabled = !!l.spec.empty;
          box.setAttribute('data-layer', l.spec.id);
          if (l.spec.swatch) el('i', null, row).style.background = l.spec.swatch;
          el('span', l.spec.name, row);
          if (l.spec.empty) el('span', ' 无数据 no data', row, 'sp-empty');
          else if (l.spec.count !== undefined) el('span', ' ' + l.spec.count.toLocaleString(), row, 'sp-count');
          L.DomEvent.on(box, 'change', function () {
            var all = [l].concat((l.spec.with || []).map(function (id) { return S.layers[id]; }));
            all.forEach(function (x) {
              if (box.checked) { x.build(); x.addTo(map); } else { map.removeLayer(x); }
            });
          });
        });
      });
      if (cfg.basemaps && cfg.basemaps.length) {
        var det = el('details', null, body, 'sp-group');
        el('summary', '在线底图 Online base maps', det);
        cfg.basemaps.forEach(function (b) {
          var row = el('label', null, det, 'sp-row');
          var box = el('input', null, row);
          box.type = 'checkbox';
          box.checked = b.show;
          el('span', b.name, row);
          var tl = window[b.layer];
          L.DomEvent.on(box, 'change', function () {
            if (box.checked) tl.addTo(map); else map.removeLayer(tl);
          });
        });
      }
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
  }

  function searchBox(map, cfg, layer) {
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var root = el('div', null, null, 'sp-search leaflet-bar');
      var input = el('input', null, root);
      input.type = 'search';
      input.placeholder = cfg.search.placeholder;
      input.setAttribute('aria-label', cfg.search.placeholder);
      var list = el('ul', null, root);
      function run() {
        list.textContent = '';
        var q = input.value.trim().toLowerCase();
        if (!q) return;
        layer.build();
        var hits = 0, cols = cfg.search.cols.map(function (c) { return layer.cols[c]; });
        for (var i = 0; i < layer.nRows && hits < 12; i++) {
          for (var c = 0; c < cols.length; c++) {
            var v = cols[c][i];
            if (v !== null && v !== undefined && String(v).toLowerCase().indexOf(q) >= 0) {
              hits++;
              var li = el('li', null, list);
              el('span', layer.cols[cfg.search.cols[0]][i] || '', li);
              el('small', ' ' + (layer.cols[cfg.search.cols[1]][i] || ''), li);
              li.setAttribute('data-row', i);
              L.DomEvent.on(li, 'click', (function (row) {
                return function (e) {
                  L.DomEvent.stop(e);
                  S.show(layer.spec.id, row);
                  setTimeout(function () { list.textContent = ''; }, 0);
                };
              })(i));
              break;
            }
          }
        }
        if (!hits) el('li', '没有找到 no match', list, 'sp-empty');
      }
      var timer = null;
      L.DomEvent.on(input, 'input', function () { clearTimeout(timer); timer = setTimeout(run, 150); });
      L.DomEvent.on(input, 'keydown', function (e) {
        if (e.key === 'Enter') { var first = list.querySelector('li[data-row]'); if (first) first.click(); }
      });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
  }

  function filterBox(map, cfg, layer) {
    var fc = cfg.filters, ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-filter leaflet-bar');
      el('summary', '筛选 Filter', root);
      var controls = {};
      function select(label, options, key) {
        var row = el('label', null, root, 'sp-frow');
        el('span', label, row);
        var s = el('select', null, row);
        s.setAttribute('data-filter', key);
        options.forEach(function (o) { var op = el('option', o[1], s); op.value = o[0]; });
        controls[key] = s;
      }
      function number(label, key) {
        var row = el('label', null, root, 'sp-frow');
        el('span', label, row);
        var n = el('input', null, row);
        n.type = 'number';
        n.setAttribute('data-filter', key);
        controls[key] = n;
      }
      if (fc.missing) select('缺少 Missing', [['', '全部 all']].concat(fc.missing.options), 'missing');
      if (fc.year) { number('建成不晚于 Built ≤', 'year_max'); number('建成不早于 Built ≥', 'year_min'); }
      if (fc.status) select(fc.status.label, [['', '全部 all']].concat(fc.status.options), 'status');
      var count = el('div', null, root, 'sp-fcount');
      function apply() {
        var m = controls.missing ? controls.missing.value : '';
        var ymax = controls.year_max && controls.year_max.value !== '' ? +controls.year_max.value : null;
        var ymin = controls.year_min && controls.year_min.value !== '' ? +controls.year_min.value : null;
        var st = controls.status ? controls.status.value : '';
        layer.build();
        var codes = fc.missing ? layer.cols[fc.missing.col] : null;
        var years = fc.year ? layer.cols[fc.year.col] : null;
        var stat = fc.status ? layer.cols[fc.status.col] : null;
        var fn = null;
        if (m !== '' || ymax !== null || ymin !== null || st !== '') {
          var mi = m === '' ? -1 : +m;
          fn = function (i) {
            if (mi >= 0 && 'ckn'.indexOf(codes[i].charAt(mi)) >= 0) return false;
            if (ymax !== null && !(years[i] !== null && years[i] <= ymax)) return false;
            if (ymin !== null && !(years[i] !== null && years[i] >= ymin)) return false;
            if (st !== '' && stat[i] !== st) return false;
            return true;
          };
        }
        var shown = 0, n = layer.nRows;
        for (var i = 0; i < n; i++) if (!fn || fn(i)) shown++;
        count.textContent = '显示 shown ' + shown.toLocaleString() + ' / ' + n.toLocaleString();
        window.SPATIAL_SHOWN = shown;
        layer.setFilter(fn);
      }
      Object.keys(controls).forEach(function (k) { L.DomEvent.on(controls[k], 'change', apply); });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
  }

  /* Money links: hidden at city zoom; shown for the selected bundle or parcel (its popup
   * open), with their amounts, and all of them from zoom cfg.links.showFrom (at least two
   * steps in from the view of the whole data); a slider
   * keeps only links of at least an amount.  window.SPATIAL_LINKS: links drawn. */
  function linkFocus(map, cfg) {
    var lc = cfg.links, layer = S.layers[lc.layer];
    if (!layer || layer.spec.empty) return;
    layer.build();
    // never at the whole-data view: its zoom from the data's bounds, not the map's zoom
    // now (the page may start before the map is fitted to them)
    var b = cfg.bounds, whole = b ? map.getBoundsZoom(L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]))
                                  : map.getZoom();
    lc.showFrom = Math.max(lc.showFrom, whole + 2);
    var amount = layer.cols[lc.amountCol], ends = lc.endCols.map(function (c) { return layer.cols[c]; });
    var state = {min: 0, sel: null};
    function keep(i) {
      if (state.min > 0 && !(amount[i] >= state.min)) return false;
      if (state.sel) {
        for (var e = 0; e < ends.length; e++) if (state.sel[ends[e][i]]) return true;
        return false;
      }
      return map.getZoom() >= lc.showFrom;
    }
    var ctl = L.control({position: 'topleft'}), text, hint;
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-box sp-links leaflet-bar');
      root.open = true;
      el('summary', '资金联系 Money links', root);
      var row = el('label', null, root, 'sp-frow');
      el('span', '资金 ≥ Amount ≥', row);
      var slider = el('input', null, row);
      slider.type = 'range';
      slider.min = 0;
      slider.max = lc.steps.length - 1;
      slider.value = 0;
      slider.setAttribute('data-filter', 'link_amount');
      text = el('div', null, root, 'sp-fcount');
      hint = el('div', null, root, 'sp-note');
      L.DomEvent.on(slider, 'input', function () { state.min = lc.steps[+slider.value]; update(); });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
    function update() {
      var n = 0;
      for (var i = 0; i < layer.nRows; i++) if (keep(i)) n++;
      window.SPATIAL_LINKS = n;
      var at = state.min > 0 ? '≥ ' + state.min.toLocaleString('zh-CN') + ' 万元 · ' : '';
      text.textContent = at + '显示 shown ' + n.toLocaleString() + ' / ' + layer.nRows.toLocaleString();
      hint.textContent = state.sel ? lc.selectedText
        : map.getZoom() >= lc.showFrom ? lc.allText : lc.hiddenText;
      layer.setFilter(keep);
    }
    S.focusLinks = function (ids) {
      var sel = null;
      (ids || []).forEach(function (v) {
        if (v !== null && v !== undefined && v !== '') { sel = sel || {}; sel[v] = true; }
      });
      state.sel = sel;
      update();
    };
    map.on('zoomend', update);
    map.on('popupclose', function () { if (state.sel) { state.sel = null; update(); } });
    update();
  }

  /* One category at a time: compounds coloured by their status for it (covered, too far,
   * unreachable …) with a legend of counts, and the category's facilities switched on. */
  function categoryView(map, cfg) {
    var vc = cfg.view, layer = S.layers[vc.layer];
    if (!layer || layer.spec.empty || !vc.options.length) return;
    var ctl = L.control({position: 'topleft'}), select, legend;
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-box sp-view leaflet-bar');
      root.open = true;
      el('summary', '视图 View', root);
      var row = el('label', null, root, 'sp-frow');
      el('span', '类别 Category', row);
      select = el('select', null, row);
      select.setAttribute('data-view', 'category');
      [['', vc.allLabel]].concat(vc.options).forEach(function (o) {
        var op = el('option', o[1], select); op.value = o[0];
      });
      legend = el('div', null, root, 'sp-view-legend');
      L.DomEvent.on(select, 'change', function () { S.viewCategory(select.value); });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    };
    ctl.addTo(map);
    S.viewCategory = function (value) {
      layer.build();
      select.value = value;
      legend.textContent = '';
      var main = document.querySelector('.spatial-legend');
      if (value === '') {
        layer.spec.fillCol = vc.fillCol;
        if (main) main.style.display = '';
        window.SPATIAL_VIEW = null;
        layer.redraw();
        return;
      }
      var k = +value, codes = layer.cols[vc.col], n = layer.nRows, fills = new Array(n), counts = {};
      for (var i = 0; i < n; i++) {
        var s = codes[i].charAt(k);
        fills[i] = vc.colours[s];
        counts[s] = (counts[s] || 0) + 1;
      }
      layer.cols.view_fill = fills;
      layer.spec.fillCol = 'view_fill';
      if (main) main.style.display = 'none';
      var opt = vc.options.filter(function (o) { return o[0] === value; })[0];
      el('b', opt[1], legend);
      vc.order.forEach(function (s) {
        if (!counts[s]) return;
        var r = el('div', null, legend, 'sp-view-row');
        r.setAttribute('data-status', s);
        el('i', null, r).style.background = vc.colours[s];
        el('span', vc.labels[s] + ' ' + counts[s].toLocaleString(), r);
      });
      (opt[2] || []).forEach(function (id) {  // the category's facilities and service area
        var l = S.layers[id];
        if (!l || l.spec.empty) return;
        l.build();
        if (!map.hasLayer(l)) l.addTo(map);
        var box = document.querySelector('input[data-layer="' + id + '"]');
        if (box) box.checked = true;
      });
      window.SPATIAL_VIEW = counts;
      layer.redraw();
    };
  }

  /* Two or more states of one layer (before the plan, the end of each year): a 时点 State
   * box switches the layer's fill column.  window.SPATIAL_STATE: the state shown. */
  function stateSwitch(map, cfg) {
    var sc = cfg.states, layer = S.layers[sc.layer];
    if (!layer || layer.spec.empty || !sc.options.length) return;
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
      var root = el('details', null, null, 'sp-box sp-state leaflet-bar');
      root.open = true;
      el('summary', '时点 State', root);
      var row = el('label', null, root, 'sp-frow');
      el('span', '显示 Show', row);
      var select = el('select', null, row);
      select.setAttribute('data-state', 'state');
      sc.options.forEach(function (o, k) { var op = el('option', o[1], select); op.value = String(k); });
      var count = el('div', null, root, 'sp-fcount');
      S.showState = function (k) {
        layer.build();
        select.value = String(k);
        layer.spec.fillCol = sc.options[k][0];
        count.textContent = '缺口小区 compounds lacking: ' + sc.counts[k].toLocaleString();
        window.SPATIAL_STATE = {index: k, label: sc.options[k][1], lacking: sc.counts[k]};
        layer.redraw();
      };
      L.DomEvent.on(select, 'change', function () { S.showState(+select.value); });
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      setTimeout(function () { S.showState(0); }, 0);
      return root;
    };
    ctl.addTo(map);
  }

  S.init = function (map, cfg) {
    var t0 = performance.now();
    S.map = map;
    S.cfg = cfg;
    S.layers = {};
    map.setMaxZoom(MAX_ZOOM);
    ['context', 'data', 'top'].forEach(function (name, k) {
      map.createPane('spatial-' + name).style.zIndex = 250 + k * 160;
    });
    var layers = cfg.layers.map(function (spec) {
      var l = new VectorLayer(spec, {pane: 'spatial-' + (spec.pane || 'data'), updateWhenZooming: false,
                                      keepBuffer: 1, maxZoom: MAX_ZOOM, zIndex: spec.zIndex || 1});
      S.layers[spec.id] = l;
      return l;
    });
    var waiting = 0;
    function check() {
      if (waiting === 0 && !window.SPATIAL_READY) {
        window.SPATIAL_READY = true;
        window.SPATIAL_TIMING = {init_ms: t0, ready_ms: performance.now()};
        document.dispatchEvent(new CustomEvent('spatial-ready'));
      }
    }
    layers.forEach(function (l) {
      if (!l.spec.show || l.spec.empty) return;
      waiting++;
      l.build();
      l.once('load', function () { waiting--; check(); });
      l.addTo(map);
    });
    layerPanel(map, cfg, layers);
    if (cfg.search) searchBox(map, cfg, S.layers[cfg.search.layer]);
    if (cfg.filters) filterBox(map, cfg, S.layers[cfg.filters.layer]);
    if (cfg.index) indexTable(map, cfg.index);
    if (cfg.links) linkFocus(map, cfg);
    if (cfg.view) categoryView(map, cfg);
    if (cfg.states) stateSwitch(map, cfg);
    map.on('click', function (e) {
      for (var k = layers.length - 1; k >= 0; k--) {
        var l = layers[k];
        if (!l.spec.popup || !map.hasLayer(l)) continue;
        var i = l.hit(e.latlng, map.getZoom());
        if (i >= 0) { S.openPopup(l, i, e.latlng); return; }
      }
    });
    map.whenReady(function () { setTimeout(check, 0); });
  };

  S.openPopup = function (layer, i, latlng) {
    var content = S.popups[layer.spec.popup](layer, i, S.cfg);
    S.popup = L.popup({maxWidth: 340, minWidth: 200, maxHeight: 320, autoPanPadding: [20, 20]})
      .setLatLng(latlng).setContent(content).openOn(S.map);
    S.lastPopup = {layer: layer.spec.id, row: i};
    var pick = S.cfg.links && S.focusLinks ? S.cfg.links.select[layer.spec.id] : null;
    if (pick) S.focusLinks(pick.map(function (c) { return layer.cols[c][i]; }));
  };

  /* Zoom to row i of a layer and open its popup (the search uses this). */
  S.show = function (layerId, i) {
    var layer = S.layers[layerId].build();
    if (!S.map.hasLayer(layer)) layer.addTo(S.map);
    var b = layer.centre(i);
    S.map.fitBounds(b, {maxZoom: 17, animate: false});
    S.openPopup(layer, i, b.getCenter());
  };
})();

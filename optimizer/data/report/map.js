/* Interactive maps of the county-health-siting reports (Leaflet, no network needed).
 * Each <div class="lmap" data-spec="ID"> is drawn from the JSON in <script id="ID">:
 * {basemap: {kind, key, attribution}, canvas: bool, layers: [{id, label, kind: "point"|"polygon"|"line",
 *  show, className, styles: [...], popup: [[label, key, format]], features: [{s, r, xy|geom, p, label}]}]}
 * A feature's label (zone names) is a permanent tooltip at its centre; lines (roads) take no clicks.
 * A layer with cluster: true (10^3-10^4 demand points) goes into a Leaflet.markercluster group in
 * its own pane under the catchments and sites; a cluster's number is its residents (sum of the
 * points' weights), its colour green (all covered), red (none), orange (mixed), grey (not subject).
 * After drawing, each map element gets data-drawn = {layer id: features on the map} and the body
 * data-map-ready = "1" (the browser tests read both). */
(function () {
  "use strict";

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function fmt(v, f) {
    if (v === null || v === undefined || v === "") { return "-"; }
    if (f === "pct") { return (100 * v).toFixed(2) + "%"; }
    if (f === "num") { return Number(v).toLocaleString("en-US", {maximumFractionDigits: 2}); }
    if (f === "flag") { return v === 1 || v === true ? "\u2713" : "\u2717"; }
    return String(v);
  }

  function popupHtml(props, fields) {
    var rows = [];
    fields.forEach(function (fd) {
      if (Object.prototype.hasOwnProperty.call(props, fd[1])) {
        rows.push("<tr><th>" + esc(fd[0]) + "</th><td>" + esc(fmt(props[fd[1]], fd[2])) + "</td></tr>");
      }
    });
    return "<table class=\"pop\">" + rows.join("") + "</table>";
  }

  function baseLayers(spec, map) {
    var bases = {};
    var none = L.layerGroup();
    var b = spec.basemap || {kind: "none"};
    if (b.kind === "osm") {
      bases[b.label] = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"});
    } else if (b.kind === "tianditu") {
      var tileUrl = function (layer) {
        return "https://t{s}.tianditu.gov.cn/" + layer + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile" +
          "&VERSION=1.0.0&LAYER=" + layer + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles" +
          "&TILECOL={x}&TILEROW={y}&TILEMATRIX={z}&tk=" + encodeURIComponent(b.key);
      };
      bases[b.label] = L.layerGroup([
        L.tileLayer(tileUrl("vec"), {subdomains: "01234567", maxZoom: 18, attribution: "&copy; 天地图 Tianditu"}),
        L.tileLayer(tileUrl("cva"), {subdomains: "01234567", maxZoom: 18})
      ]);
    }
    bases[spec.noneLabel || "none"] = none;
    var first = Object.keys(bases)[0];
    bases[first].addTo(map);
    return bases;
  }

  function shortNumber(n, lang) {
    if (n < 1e4) { return Math.round(n).toLocaleString("en-US"); }
    if (lang === "zh") { return (n / 1e4).toFixed(n < 1e5 ? 1 : 0) + "\u4e07"; }
    return (n / 1e3).toFixed(n < 1e5 ? 1 : 0) + "k";
  }

  function clusterIcon(cluster, c) {
    var w = 0, covered = 0, uncovered = 0;
    cluster.getAllChildMarkers().forEach(function (m) {
      w += m.options.residents;
      if (m.options.sIdx === 0) { covered += m.options.residents; }
      if (m.options.sIdx === 1) { uncovered += m.options.residents; }
    });
    var cls = uncovered === 0 ? (covered > 0 ? "c-ok" : "c-none") : (covered === 0 ? "c-bad" : "c-mixed");
    var size = w < 1e3 ? 30 : (w < 1e4 ? 36 : 44);
    var title = c.residents + " " + Math.round(w).toLocaleString("en-US") + " \u00b7 " +
      c.uncovered + " " + Math.round(uncovered).toLocaleString("en-US");
    return L.divIcon({
      className: "demand-cluster-icon",
      iconSize: L.point(size, size),
      html: "<div class=\"demand-cluster " + cls + "\" data-residents=\"" + w + "\" data-points=\"" +
        cluster.getChildCount() + "\" title=\"" + esc(title) + "\"><span>" + esc(shortNumber(w, c.lang)) +
        "</span></div>"
    });
  }

  function clusterGroup(spec) {
    return L.markerClusterGroup({
      clusterPane: "demand",
      showCoverageOnHover: false,
      maxClusterRadius: 60,
      iconCreateFunction: function (cluster) { return clusterIcon(cluster, spec.cluster); }
    });
  }

  function draw(el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
    var map = L.map(el, {zoomSnap: 0.25, attributionControl: true});
    var renderer = spec.canvas ? L.canvas({padding: 0.5}) : L.svg();
    var clustered = !!(spec.cluster && L.markerClusterGroup);
    var demandRenderer = null;
    if (clustered) {
      map.createPane("demand").style.zIndex = 390;  // under overlayPane (400): catchments, sites
      map.setMaxZoom(19);  // markercluster needs a finite one (no tile layer offline)
      demandRenderer = spec.canvas ? L.canvas({padding: 0.5, pane: "demand"}) : L.svg({pane: "demand"});
    }
    var bases = baseLayers(spec, map);
    var overlays = {};
    var drawn = {};
    var bounds = L.latLngBounds([]);
    var later = [];
    spec.layers.forEach(function (ls) {
      var inCluster = clustered && ls.cluster && ls.kind === "point";
      var group = inCluster ? clusterGroup(spec) : L.featureGroup();
      var members = [];
      var feats = ls.pool ? spec.pools[ls.pool] : ls.features;
      feats.forEach(function (f, i) {
        var st = {};
        var sIdx = ls.sidx ? ls.sidx[i] : (f.s || 0);
        var base = ls.styles[sIdx];
        Object.keys(base).forEach(function (k) { st[k] = base[k]; });
        st.className = ls.className || "";
        st.renderer = inCluster ? demandRenderer : renderer;
        var lyr;
        if (inCluster) {
          st.pane = "demand";
          st.sIdx = sIdx;
          st.residents = (f.p && typeof f.p.weight === "number") ? f.p.weight : 1;
        }
        if (ls.kind === "point") {
          st.radius = f.r || st.radius || 5;
          lyr = L.circleMarker([f.xy[1], f.xy[0]], st);
        } else if (ls.kind === "line") {
          st.interactive = false;
          var multi = f.geom.type === "MultiLineString" ? 1 : 0;
          lyr = L.polyline(L.GeoJSON.coordsToLatLngs(f.geom.coordinates, multi), st);
        } else {
          var deep = f.geom.type === "MultiPolygon" ? 2 : 1;
          lyr = L.polygon(L.GeoJSON.coordsToLatLngs(f.geom.coordinates, deep), st);
        }
        if (f.label) {
          lyr.bindTooltip(esc(f.label), {permanent: true, direction: "center", className: "zone-label", opacity: 0.9});
        }
        if (ls.popup && ls.popup.length) { lyr.bindPopup(popupHtml(f.p || {}, ls.popup)); }
        if (inCluster) { members.push(lyr); } else { group.addLayer(lyr); }
      });
      if (inCluster) { group.addLayers(members); }
      var label = "<span class=\"swatch\" style=\"background:" + esc(ls.swatch || "#999") +
        "\"></span>" + esc(ls.label) + " (" + feats.length + ")";
      overlays[label] = group;
      if (ls.show) {
        if (inCluster) { later.push(group); } else { group.addTo(map); }  // clusters need a view
        drawn[ls.id] = feats.length;
      }
      if (feats.length) { bounds.extend(group.getBounds()); }
      group.on("add", function () { drawn[ls.id] = feats.length; el.setAttribute("data-drawn", JSON.stringify(drawn)); });
      group.on("remove", function () { delete drawn[ls.id]; el.setAttribute("data-drawn", JSON.stringify(drawn)); });
    });
    L.control.layers(bases, overlays, {collapsed: !!spec.collapsed}).addTo(map);
    L.control.scale({metric: true, imperial: false}).addTo(map);
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [12, 12]}); } else { map.setView([35, 105], 4); }
    later.forEach(function (group) { group.addTo(map); });
    el.setAttribute("data-drawn", JSON.stringify(drawn));
  }

  var maps = document.querySelectorAll(".lmap");
  for (var i = 0; i < maps.length; i++) { draw(maps[i]); }
  document.body.setAttribute("data-map-ready", "1");
})();

// Draw the dashboard's Vega-Lite charts. The specs sit in <script type="application/json">
// next to each chart. Vega, Vega-Lite, vega-embed and the expression interpreter are loaded
// here, one after the other, so that they arrive in order also when htmx swaps the page in.
// The interpreter keeps Vega working under a CSP without 'unsafe-eval'; defaultStyle: false
// keeps vega-embed from adding inline styles, which the CSP would refuse.
(function () {
  "use strict";
  var me = document.currentScript;
  var version = me ? me.dataset.version : "";
  var LIBRARIES = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.min.js"];

  function load(names, done) {
    if (window.vegaEmbed && window.vegaInterpreter) return done();
    if (!names.length) return done();
    var script = document.createElement("script");
    script.src = "/static/" + names[0] + "?v=" + version;
    script.onload = function () { load(names.slice(1), done); };
    document.head.appendChild(script);
  }

  function draw() {
    document.querySelectorAll("[data-spec-for]").forEach(function (source) {
      var target = document.querySelector('[data-chart="' + source.dataset.specFor + '"]');
      if (!target || target.dataset.drawn) return;
      target.dataset.drawn = "1";
      vegaEmbed(target, JSON.parse(source.textContent), {
        ast: true,
        expr: vegaInterpreter.expressionInterpreter,
        actions: false,
        defaultStyle: false,
        tooltip: false,
        renderer: "svg",
      }).then(function () {
        target.dataset.ready = "1";
      }).catch(function (error) {
        target.textContent = error.message;
      });
    });
  }

  load(LIBRARIES, draw);
})();

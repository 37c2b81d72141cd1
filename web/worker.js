// The worker's start, after Go's wasm_exec.js in the same file: it runs the
// module (wasm/, the core and its host) beside this file, off the page's
// main thread. The build fills in the module's hashed file name.
(function () {
  "use strict";
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(new URL("/*WASM*/", self.location.href)), go.importObject).then(function (r) {
    go.run(r.instance);
  }).catch(function (e) {
    postMessage(JSON.stringify([{ t: "log", level: "error", msg: "consent: module failed to load: " + e }]));
  });
})();

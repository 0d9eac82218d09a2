/* bmlkg teaching view: draws the graph from the JSON blocks with fixed positions (physics off),
   wires search (tom-select), the kind filter and neighbourhood highlighting (pyvis's utils.js).
   No inline event handlers, no innerHTML of data: labels and tooltips stay text. */
(function () {
  "use strict";
  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }
  var nodeList = readJson("bmlkg-nodes");
  var edgeList = readJson("bmlkg-edges");
  var options = readJson("bmlkg-options");
  nodes = new vis.DataSet(nodeList);
  edges = new vis.DataSet(edgeList);
  nodeColors = {};
  nodeList.forEach(function (n) { nodeColors[n.id] = n.color; });
  allNodes = nodes.get({ returnType: "Object" });
  var container = document.getElementById("mynetwork");
  network = new vis.Network(container, { nodes: nodes, edges: edges }, options);
  network.once("afterDrawing", function () {
    network.fit({ animation: false });
    document.body.setAttribute("data-ready", "1");
  });
  network.on("click", neighbourhoodHighlight);

  var hiddenGroups = {};
  function applyFilter() {
    nodes.update(nodeList.map(function (n) {
      return { id: n.id, hidden: hiddenGroups[n.kind] === true };
    }));
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-group]"), function (box) {
    box.addEventListener("change", function () {
      hiddenGroups[box.getAttribute("data-group")] = !box.checked;
      applyFilter();
    });
  });

  function focusNode(id) {
    if (!id || nodes.get(id) === null) { return; }
    if (nodes.get(id).hidden) {
      hiddenGroups[nodes.get(id).kind] = false;
      Array.prototype.forEach.call(document.querySelectorAll("input[data-group]"), function (box) {
        if (box.getAttribute("data-group") === nodes.get(id).kind) { box.checked = true; }
      });
      applyFilter();
    }
    selectNode([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 0.9), animation: false });
  }
  var search = new TomSelect("#search", {
    create: false,
    maxOptions: 1000,
    sortField: { field: "text", direction: "asc" },
    onChange: function (value) { focusNode(value); }
  });

  document.getElementById("reset").addEventListener("click", function () {
    search.clear(true);
    Object.keys(hiddenGroups).forEach(function (k) { hiddenGroups[k] = false; });
    Array.prototype.forEach.call(document.querySelectorAll("input[data-group]"), function (box) { box.checked = true; });
    applyFilter();
    network.unselectAll();
    neighbourhoodHighlight({ nodes: [] });
    network.fit({ animation: false });
  });
})();

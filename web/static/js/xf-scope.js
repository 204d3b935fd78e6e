// 满意度评价 scope on the 登记 step of a petition (services/petitions/scope.py): whenever 信访目的, 涉法涉诉
// or 匿名 change, the server's rule (the DMN table) is asked and the 纳入满意度评价 box follows it —
// ticked and locked, unticked and locked, or the registrar's to decide. The server checks again on
// 提交; without JavaScript a mismatch is refused there with the rule's message.
(function () {
  "use strict";

  function setUp(panel) {
    var form = document.querySelector("form input[name='in_scope']") && document.querySelector("input[name='in_scope']").form;
    if (!form) { return; }
    var box = form.querySelector("input[type='checkbox'][name='in_scope']");
    var words = panel.querySelector("[data-scope-words]");
    var kept = document.createElement("input");
    kept.type = "hidden";
    kept.name = "in_scope";
    kept.value = "true";

    function value(name) {
      var field = form.querySelector("[name='" + name + "']");
      if (!field) { return ""; }
      return field.type === "checkbox" ? String(field.checked) : field.value;
    }

    function ask() {
      var query = new URLSearchParams({purpose: value("purpose"), law_related: value("law_related"),
                                       anonymous: value("anonymous")});
      fetch(panel.getAttribute("data-scope-url") + "?" + query.toString(),
            {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (scope) {
          if (scope.locked) { box.checked = scope.value; }
          box.disabled = scope.locked;
          if (scope.locked && scope.value) { form.appendChild(kept); } else if (kept.parentNode) { kept.remove(); }
          if (words) { words.textContent = scope.words; }
        })
        .catch(function () { /* the server decides on 提交 all the same */ });
    }

    ["purpose", "law_related", "anonymous"].forEach(function (name) {
      var field = form.querySelector("[name='" + name + "']");
      if (field) { field.addEventListener("change", ask); }
    });
    ask();
  }

  document.querySelectorAll("[data-scope-url]").forEach(setUp);
}());

// 流程设计工作台: the BPMN modeler with Banjian's properties panel, the form editor and the DMN editor of
// one draft (services/platform/studio.py). The libraries come from web/static/build/studio-lib.js
// (web/assets, bundled at install). The server judges everything: saving checks the files, "校验" runs
// the deployer's validation, and its problems are marked on the diagram's elements.
(function () {
  "use strict";
  var S = window.BanjianStudio;
  var root = document.getElementById("studio");
  if (!S || !root) { return; }
  var words = JSON.parse(document.getElementById("studio-words").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var status = root.querySelector(".studio-status");
  var panel = root.querySelector(".studio-panel");
  var problemsBox = root.querySelector(".studio-problems");
  var state = { revision: 0, forms: {}, decisions: {}, dirty: false, catalogue: null, formKey: null, decision: null,
                problems: [] };
  // bpmn-js's own words in Chinese (the page's language); English pages keep the library's.
  var ZH = { "Activate hand tool": "抓手工具", "Activate lasso tool": "框选工具", "Activate create/remove space tool": "插入/删除空间", "Activate global connect tool": "连线工具", "Create start event": "开始事件", "Create end event": "结束事件", "Create intermediate/boundary event": "中间/边界事件", "Create gateway": "网关", "Create task": "任务", "Create expanded sub-process": "子流程（展开）", "Create data object reference": "数据对象", "Create data store reference": "数据存储", "Create pool/participant": "池/参与者", "Create group": "分组", "Append task": "追加任务", "Append end event": "追加结束事件", "Append gateway": "追加网关", "Append intermediate/boundary event": "追加中间事件", "Append timer intermediate catch event": "追加定时事件", "Append message intermediate catch event": "追加消息事件", "Append receive task": "追加接收任务", "Append signal intermediate catch event": "追加信号事件", "Append conditional intermediate catch event": "追加条件事件", "Append compensation activity": "追加补偿活动", "Add text annotation": "添加注释", "Change element": "更改类型", "Change type": "更改类型", "Connect to other element": "连接到其他元素", "Connect using association": "用关联连接", "Connect using data input association": "用数据输入关联连接", "Delete": "删除", "Add lane above": "在上方添加泳道", "Add lane below": "在下方添加泳道", "Divide into two lanes": "分为两条泳道", "Divide into three lanes": "分为三条泳道", "Task": "任务", "User task": "用户任务", "Service task": "服务任务", "Script task": "脚本任务", "Business rule task": "业务规则任务（决策表）", "Manual task": "人工任务", "Send task": "发送任务", "Receive task": "接收任务", "Call activity": "调用活动（子流程）", "Sub-process": "子流程", "Sub-process (collapsed)": "子流程（折叠）", "Sub-process (expanded)": "子流程（展开）", "Event sub-process": "事件子流程", "Transaction": "事务", "Start event": "开始事件", "End event": "结束事件", "Message start event": "消息开始事件", "Timer start event": "定时开始事件", "Terminate end event": "终止结束事件", "Error end event": "错误结束事件", "Message end event": "消息结束事件", "Exclusive gateway": "排他网关", "Parallel gateway": "并行网关", "Inclusive gateway": "包容网关", "Event-based gateway": "事件网关", "Complex gateway": "复杂网关", "Timer intermediate catch event": "定时中间事件", "Message intermediate catch event": "消息中间捕获事件", "Message intermediate throw event": "消息中间抛出事件", "Intermediate throw event": "中间抛出事件", "Timer boundary event": "定时边界事件", "Timer boundary event (non-interrupting)": "定时边界事件（不中断）", "Error boundary event": "错误边界事件", "Message boundary event": "消息边界事件", "Sequence flow": "顺序流", "Default flow": "默认出口", "Conditional flow": "条件出口", "Parallel multi-instance": "并行多实例（会签）", "Sequential multi-instance": "串行多实例（依次审批）", "Loop": "循环", "Toggle non-interrupting": "切换为不中断", "Search in diagram": "在图中查找", "Token Simulation": "模拟运行" };
  function translate(template, replacements) {
    var text = document.documentElement.lang.indexOf("zh") === 0 ? ZH[template] || template : template;
    return text.replace(/{([^}]+)}/g, function (_, key) { return (replacements || {})[key] || "{" + key + "}"; });
  }
  var modeler = new S.BpmnModeler({ container: "#studio-canvas",
                                    additionalModules: [S.TokenSimulationModule, { translate: ["value", translate] }],
                                    moddleExtensions: S.moddleExtensions });
  var modeling = modeler.get("modeling"), moddle = modeler.get("moddle"), overlays = modeler.get("overlays");
  var registry = modeler.get("elementRegistry"), canvas = modeler.get("canvas");
  var formEditor = null, dmnModeler = null;

  function say(text, kind) { status.textContent = text; status.className = "studio-status " + (kind || ""); }
  function fmt(text, n) { return text.replace("%(n)s", n); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function request(method, url, body) {
    var init = { method: method, credentials: "same-origin",
                 headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.status = response.status; return data;
      });
    });
  }
  function markDirty() { state.dirty = true; say(words.unsaved, "dirty"); }

  // ---- extension properties (spiffworkflow:properties), edited through modeling so that undo works ----
  function extensionValues(bo, type) {
    var ext = bo.extensionElements;
    return ext ? (ext.values || []).filter(function (v) { return v.$type === type; }) : [];
  }
  function getProperty(bo, name) {
    var props = extensionValues(bo, "spiffworkflow:Properties")[0];
    var found = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    return found ? found.value || "" : "";
  }
  function ensureExtensions(element, bo) {
    if (!bo.extensionElements) {
      modeling.updateModdleProperties(element, bo, {
        extensionElements: moddle.create("bpmn:ExtensionElements", { values: [] }) });
    }
    return bo.extensionElements;
  }
  function setProperty(element, bo, name, value) {
    value = (value || "").trim();
    var props = extensionValues(bo, "spiffworkflow:Properties")[0];
    var found = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (found) {
        modeling.updateModdleProperties(element, props, {
          properties: props.properties.filter(function (p) { return p !== found; }) });
      }
      return;
    }
    if (found) { modeling.updateModdleProperties(element, found, { value: value }); return; }
    if (!props) {
      var ext = ensureExtensions(element, bo);
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([props]) });
    }
    var created = moddle.create("spiffworkflow:Property", { name: name, value: value });
    modeling.updateModdleProperties(element, props, { properties: (props.properties || []).concat([created]) });
  }

  // ---- the properties panel ----
  function field(label, input, hint) {
    var id = "prop-" + Math.random().toString(36).slice(2);
    input.id = id;
    return el("div", { "class": "field" }, [el("label", { "for": id, text: label }), input,
      hint ? el("span", { "class": "help", text: hint }) : null]);
  }
  function textInput(value, onChange, multiline) {
    var input = el(multiline ? "textarea" : "input", multiline ? { rows: "4" } : { type: "text" });
    input.value = value || "";
    input.addEventListener("change", function () { onChange(input.value); });
    return input;
  }
  function selectInput(value, options, onChange) {
    var select = el("select");
    options.forEach(function (option) {
      var node = el("option", { value: option[0], text: option[1] });
      if (option[0] === (value || "")) { node.selected = true; }
      select.appendChild(node);
    });
    select.addEventListener("change", function () { onChange(select.value); });
    return select;
  }
  function processOf(element) {
    var bo = element.businessObject;
    if (bo.$type === "bpmn:Participant") { return bo.processRef; }
    if (bo.$type === "bpmn:Process") { return bo; }
    return null;
  }
  var NEW_FORM = "\u0000new";
  function isType(bo, type) { return bo.$instanceOf && bo.$instanceOf(type); }
  function formOptions() {
    var keys = Object.keys(state.forms).sort();
    (state.catalogue ? state.catalogue.forms : []).forEach(function (k) { if (keys.indexOf(k) < 0) { keys.push(k); } });
    return [["", words.select]].concat(keys.map(function (k) {
      return [k, k + (state.forms[k] ? " ✎" : "")]; })).concat([[NEW_FORM, words.newForm]]);
  }
  function propertyFields(element, bo, type) {
    var nodes = [];
    (state.catalogue ? state.catalogue.properties : []).forEach(function (spec) {
      if (spec.applies_to.indexOf(type) < 0) { return; }
      var value = getProperty(bo, spec.name);
      var change = function (v) { setProperty(element, bo, spec.name, v); };
      var input;
      if (spec.name === "formKey") {
        input = selectInput(value, formOptions(), function (v) {
          if (v !== NEW_FORM) { change(v); return; }
          input.value = value;  // make the form first, on the 表单 tab; then pick it here
          root.querySelector('[data-tab="forms"]').click();
          document.getElementById("new-form-key").focus();
        });
      } else if (spec.name === "startableBy") {
        input = el("fieldset", { "class": "checks" });
        var chosen = value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        state.catalogue.roles.forEach(function (role) {
          var box = el("input", { type: "checkbox", value: role.key });
          box.checked = chosen.indexOf(role.key) >= 0;
          box.addEventListener("change", function () {
            var picked = Array.prototype.slice.call(input.querySelectorAll("input:checked"))
              .map(function (b) { return b.value; });
            change(picked.join(","));
          });
          input.appendChild(el("label", { "class": "inline" }, [box, document.createTextNode(" " + role.label)]));
        });
      } else if (spec.name === "role") {
        input = selectInput(value, [["", words.none]].concat(state.catalogue.roles.map(function (r) {
          return [r.key, r.label + " (" + r.key + ")"]; })), change);
      } else if (spec.choices.length) {
        input = selectInput(value, spec.choices, change);
      } else {
        input = textInput(value, change, spec.name === "guard");
      }
      nodes.push(field(spec.label + " · " + spec.name, input, spec.hint));
    });
    return nodes;
  }
  function operatorFields(element, bo) {
    var current = extensionValues(bo, "spiffworkflow:ServiceTaskOperator")[0];
    var operators = state.catalogue.operators;
    var nodes = [field(words.operator, selectInput(current ? current.id : "", [["", words.select]].concat(
      operators.map(function (o) { return [o.name, o.name]; })), function (name) {
      var ext = ensureExtensions(element, bo);
      var others = (ext.values || []).filter(function (v) { return v.$type !== "spiffworkflow:ServiceTaskOperator"; });
      var spec = operators.filter(function (o) { return o.name === name; })[0];
      if (!spec) { modeling.updateModdleProperties(element, ext, { values: others }); return; }
      var parameters = spec.parameters.map(function (p) {
        return moddle.create("spiffworkflow:Parameter", { id: p, type: "any", value: p }); });
      var operator = moddle.create("spiffworkflow:ServiceTaskOperator", { id: name,
        parameterList: moddle.create("spiffworkflow:Parameters", { parameters: parameters }) });
      modeling.updateModdleProperties(element, ext, { values: others.concat([operator]) });
    }))];
    if (current) {
      var spec = operators.filter(function (o) { return o.name === current.id; })[0];
      if (spec && spec.example) { nodes.push(el("p", { "class": "help", text: "→ " + spec.example })); }
      nodes.push(field(words.resultVariable, textInput(current.resultVariable, function (v) {
        modeling.updateModdleProperties(element, current, { resultVariable: v.trim() || undefined }); })));
      ((current.parameterList && current.parameterList.parameters) || []).forEach(function (parameter) {
        nodes.push(field(words.parameters + " · " + parameter.id, textInput(parameter.value, function (v) {
          modeling.updateModdleProperties(element, parameter, { value: v }); })));
      });
    }
    return nodes;
  }
  function expressionFields(element, bo) {
    var nodes = [];
    if (bo.$type === "bpmn:SequenceFlow" && bo.sourceRef &&
        /ExclusiveGateway|InclusiveGateway/.test(bo.sourceRef.$type)) {
      nodes.push(field(words.condition, textInput(bo.conditionExpression ? bo.conditionExpression.body : "",
        function (v) {
          modeling.updateProperties(element, { conditionExpression: v.trim()
            ? moddle.create("bpmn:FormalExpression", { body: v.trim() }) : undefined });
        }), words.conditionHint));
    }
    (bo.eventDefinitions || []).forEach(function (definition) {
      if (definition.$type !== "bpmn:TimerEventDefinition") { return; }
      var current = definition.timeDuration || definition.timeDate || definition.timeCycle;
      nodes.push(field(words.timer, textInput(current ? current.body : "", function (v) {
        modeling.updateModdleProperties(element, definition, { timeDuration:
          moddle.create("bpmn:FormalExpression", { body: v.trim() }), timeDate: undefined, timeCycle: undefined });
      })));
    });
    if (bo.$type === "bpmn:CallActivity") {
      nodes.push(field(words.calledElement, selectInput(bo.calledElement, [["", words.select]].concat(
        state.catalogue.processes.map(function (p) { return [p.key, p.name + " (" + p.key + ")"]; })),
        function (v) { modeling.updateProperties(element, { calledElement: v || undefined }); })));
    }
    if (bo.$type === "bpmn:ScriptTask") {
      nodes.push(field(words.script, textInput(bo.script, function (v) {
        modeling.updateProperties(element, { scriptFormat: "python", script: v }); }, true)));
    }
    if (bo.loopCharacteristics && bo.loopCharacteristics.$type === "bpmn:MultiInstanceLoopCharacteristics") {
      var loop = bo.loopCharacteristics;
      nodes.push(el("h3", { text: words.multi }));
      nodes.push(field(words.collection, textInput(loop.loopDataInputRef ? loop.loopDataInputRef.id || "" : "",
        function (v) {
          modeling.updateModdleProperties(element, loop, { loopDataInputRef: v.trim()
            ? moddle.create("bpmn:ItemAwareElement", { id: v.trim() }) : undefined });
        })));
      nodes.push(field(words.elementVar, textInput(loop.inputDataItem ? loop.inputDataItem.id || "" : "",
        function (v) {
          modeling.updateModdleProperties(element, loop, { inputDataItem: v.trim()
            ? moddle.create("bpmn:DataInput", { id: v.trim(), name: v.trim() }) : undefined });
        })));
    }
    return nodes;
  }
  function renderPanel(element) {
    panel.textContent = "";
    if (!state.catalogue) { return; }
    element = element || canvas.getRootElement();
    var bo = element && element.businessObject;
    if (!bo) { return; }
    if (bo.$type === "bpmn:Collaboration" && (bo.participants || []).length === 1) {  // nothing selected: the pool
      element = registry.get(bo.participants[0].id) || element;
      bo = element.businessObject;
    }
    var nodes = [el("p", { "class": "studio-type", text: words.elementType + ": " + bo.$type.replace("bpmn:", "") })];
    if (!modeler.get("selection").get().length) { nodes.push(el("p", { "class": "help", text: words.nothing })); }
    if (bo.$type === "bpmn:Lane") {
      nodes.push(field(words.role, selectInput(bo.name, [["", words.select]].concat(state.catalogue.roles.map(
        function (r) { return [r.key, r.label + " (" + r.key + ")"]; })), function (v) {
        modeling.updateLabel(element, v); })));
    } else if (bo.$type === "bpmn:Process") {  // the diagram's root: no label to edit on the canvas
      nodes.push(field(words.name, textInput(bo.name, function (v) {
        modeling.updateModdleProperties(element, bo, { name: v }); })));
    } else if (bo.$type !== "bpmn:Collaboration") {
      nodes.push(field(words.name, textInput(bo.name, function (v) { modeling.updateLabel(element, v); })));
    }
    if (!/^bpmn:(Collaboration|Participant|Process)$/.test(bo.$type)) {
      nodes.push(field(words.id, textInput(bo.id, function (v) {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) { modeling.updateProperties(element, { id: v }); }
      })));
    }
    var process = processOf(element);
    if (process) {
      nodes.push(el("h3", { text: words.process }));
      nodes.push(field(words.id, textInput(process.id, function (v) {
        if (/^[A-Za-z][A-Za-z0-9_]*$/.test(v)) { modeling.updateModdleProperties(element, process, { id: v }); }
      })));
      nodes = nodes.concat(propertyFields(element, process, "bpmn:Process"));
    } else if (isType(bo, "bpmn:FlowElement")) {
      nodes = nodes.concat(propertyFields(element, bo, bo.$type));
      if (bo.$type === "bpmn:ServiceTask") { nodes = nodes.concat(operatorFields(element, bo)); }
      nodes = nodes.concat(expressionFields(element, bo));
    }
    var mine = state.problems.filter(function (p) { return p.element_id === bo.id; });
    if (mine.length) {
      nodes.push(el("ul", { "class": "studio-element-problems" }, mine.map(function (p) {
        return el("li", { text: p.message }); })));
    }
    nodes.forEach(function (node) { panel.appendChild(node); });
  }

  // ---- problems: listed under the diagram, marked on their elements ----
  function showProblems(problems) {
    state.problems = problems;
    overlays.remove({ type: "problem" });
    registry.getAll().forEach(function (shape) { canvas.removeMarker(shape, "has-problem"); });
    problemsBox.textContent = "";
    if (!problems.length) { return; }
    var list = el("ul", { "class": "problems" });
    problems.forEach(function (p) {
      var shape = p.element_id && registry.get(p.element_id);
      var item = el("li", {}, [el("span", { "class": "mono", text: (p.element_id || p.file) + " " }),
                               document.createTextNode(p.message)]);
      if (shape) {
        canvas.addMarker(shape, "has-problem");
        overlays.add(shape, "problem", { position: { top: -12, right: 12 },
          html: el("span", { "class": "problem-badge", title: p.message, text: "!" }) });
        item.classList.add("clickable");
        item.addEventListener("click", function () {
          modeler.get("selection").select(shape); canvas.scrollToElement(shape); });
      }
      list.appendChild(item);
    });
    problemsBox.appendChild(list);
  }

  // ---- forms (form-js) and decision tables (dmn-js) ----
  function saveOpenEditors() {
    if (formEditor && state.formKey) {
      state.forms[state.formKey] = JSON.stringify(formEditor.saveSchema(), null, 2);
    }
    if (dmnModeler && state.decision) {
      return dmnModeler.saveXML({ format: true }).then(function (result) {
        state.decisions[state.decision] = result.xml; });
    }
    return Promise.resolve();
  }
  function renderLists() {
    [["forms", state.forms, openForm], ["decisions", state.decisions, openDecision]].forEach(function (entry) {
      var list = root.querySelector('[data-list="' + entry[0] + '"]');
      list.textContent = "";
      Object.keys(entry[1]).sort().forEach(function (key) {
        var open = el("button", { type: "button", "class": "link", text: key });
        open.addEventListener("click", function () { entry[2](key); });
        var remove = el("button", { type: "button", "class": "link danger", text: words.remove });
        remove.addEventListener("click", function () {
          delete entry[1][key];
          if (state.formKey === key) { state.formKey = null; }
          if (state.decision === key) { state.decision = null; }
          markDirty(); renderLists();
        });
        var current = key === state.formKey || key === state.decision;
        list.appendChild(el("li", current ? { "class": "current" } : {}, [open, document.createTextNode(" "), remove]));
      });
      root.querySelector('[data-count="' + entry[0] + '"]').textContent = Object.keys(entry[1]).length || "";
    });
  }
  function openForm(key) {
    saveOpenEditors();
    state.formKey = key;
    var box = document.getElementById("studio-form-editor");
    box.textContent = "";
    if (formEditor) { formEditor.destroy(); }
    formEditor = new S.FormEditor({ container: box });
    formEditor.importSchema(JSON.parse(state.forms[key])).then(function () {
      formEditor.on("changed", function () { markDirty(); validateLive(); });
    });
    renderLists();
  }
  function openDecision(name) {
    saveOpenEditors().then(function () {
      state.decision = name;
      var box = document.getElementById("studio-dmn");
      box.textContent = "";
      if (dmnModeler) { dmnModeler.destroy(); }
      dmnModeler = new S.DmnModeler({ container: box });
      dmnModeler.importXML(state.decisions[name]).then(function () {
        var views = dmnModeler.getViews();
        var table = views.filter(function (v) { return v.type === "decisionTable"; })[0];
        if (table) { dmnModeler.open(table); }
        dmnModeler.on("views.changed", function () { markDirty(); });
        ["elements.changed"].forEach(function (event) {
          var viewer = dmnModeler.getActiveViewer();
          if (viewer) { viewer.on(event, markDirty); }
        });
      });
      renderLists();
    });
  }
  function blankForm(key) {
    return JSON.stringify({ type: "default", id: key, schemaVersion: 16, title: key, components: [] }, null, 2);
  }
  function blankDecision(id) {
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="' + id + '_definitions" ' +
      'name="' + id + '" namespace="http://banjian.gov.cn/dmn">\n' +
      '  <decision id="' + id + '" name="' + id + '">\n' +
      '    <decisionTable id="' + id + '_table" hitPolicy="FIRST">\n' +
      '      <input id="' + id + '_input" label="input"><inputExpression id="' + id + '_input_expression" typeRef="string">' +
      '<text>value</text></inputExpression></input>\n' +
      '      <output id="' + id + '_output" name="result" typeRef="string" />\n' +
      '    </decisionTable>\n  </decision>\n</definitions>\n';
  }
  function taken(key) { return key in state.forms || (key + ".dmn") in state.decisions; }
  root.querySelector('[data-add="form"]').addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("new-form-key"), key = input.value.trim();
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(key)) { say(words.badKey, "error"); return; }
    if (taken(key)) { say(words.exists, "error"); return; }
    state.forms[key] = blankForm(key); input.value = ""; markDirty(); openForm(key);
  });
  root.querySelector('[data-add="copy-form"]').addEventListener("submit", function (event) {
    event.preventDefault();
    var key = document.getElementById("copy-form-key").value;
    if (!key) { return; }
    if (taken(key)) { openForm(key); return; }
    fetch(root.getAttribute("data-form-url").replace("__KEY__", encodeURIComponent(key)),
          { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (text) {
      state.forms[key] = text; markDirty(); openForm(key);
    });
  });
  root.querySelector('[data-add="decision"]').addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("new-decision-id"), id = input.value.trim();
    if (!/^[A-Za-z][A-Za-z0-9_]{0,59}$/.test(id)) { say(words.badKey, "error"); return; }
    if (taken(id)) { say(words.exists, "error"); return; }
    state.decisions[id + ".dmn"] = blankDecision(id); input.value = ""; markDirty(); openDecision(id + ".dmn");
  });

  // ---- save, validate, deploy ----
  function content() {
    return saveOpenEditors().then(function () { return modeler.saveXML({ format: true }); }).then(function (r) {
      return { name: document.getElementById("studio-name").value, bpmn: r.xml, forms: state.forms,
               decisions: state.decisions };
    });
  }
  function save() {
    say(words.saving);
    return content().then(function (body) {
      return request("PUT", root.getAttribute("data-draft-url") + "?revision=" + state.revision, body);
    }).then(function (data) {
      if (data.status === 200) {
        state.revision = data.revision; state.dirty = false; say(fmt(words.saved, data.revision), "ok");
        Object.keys(data.forms || {}).forEach(function (key) {  // skeletons of an imported model's forms
          if (!(key in state.forms)) { state.forms[key] = data.forms[key]; }
        });
        renderLists();
        return true;
      }
      if (data.status === 409) { say(words.conflict, "error"); return false; }
      say(data.message || words.failed, "error");
      if (data.problems) { showProblems(data.problems); }
      return false;
    });
  }
  function validate() {
    return save().then(function (saved) {
      if (!saved) { return false; }
      say(words.validating);
      return request("POST", root.getAttribute("data-validate-url")).then(function (data) {
        showProblems(data.problems || []);
        renderPanel(modeler.get("selection").get()[0]);
        var ok = data.status === 200 && !(data.problems || []).length;
        say(ok ? words.valid : fmt(words.problems, (data.problems || []).length), ok ? "ok" : "error");
        return ok;
      });
    });
  }
  // live validation: the unsaved content, 1.5 s after the last change (nothing is stored)
  var liveTimer = null;
  function validateLive() {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () {
      content().then(function (body) {
        return request("POST", root.getAttribute("data-validate-url"), body);
      }).then(function (data) {
        if (data.status !== 200) { return; }
        showProblems(data.problems || []);
        var count = (data.problems || []).length;
        if (state.dirty) { say(words.unsaved + " · " + (count ? fmt(words.problems, count) : words.valid),
                               count ? "error" : "dirty"); }
      });
    }, 1500);
  }
  function deploy() {
    return save().then(function (saved) {
      if (!saved) { return; }
      say(words.deploying);
      return request("POST", root.getAttribute("data-deploy-url")).then(function (data) {
        if (data.status !== 200) {
          say(data.message || words.failed, "error"); showProblems(data.problems || []); return;
        }
        showProblems([]);
        status.textContent = "";
        status.className = "studio-status ok";
        status.appendChild(document.createTextNode(words.deployed + ": "));
        data.deployed.forEach(function (d, i) {
          if (i) { status.appendChild(document.createTextNode("; ")); }
          status.appendChild(el("a", { href: d.url, text: d.message }));
        });
      });
    });
  }
  function download() {
    modeler.saveXML({ format: true }).then(function (r) {
      var link = el("a", { href: URL.createObjectURL(new Blob([r.xml], { type: "application/xml" })),
                           download: (processOf(canvas.getRootElement()) || { id: "process" }).id + ".bpmn" });
      link.click();
    });
  }
  var actions = { save: save, validate: validate, deploy: deploy, download: download, simulate: function () {
    var button = root.querySelector('[data-action="simulate"]');
    modeler.get("toggleMode").toggleMode();
    var on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    say(on ? words.simulationOn : words.simulationOff);
  } };
  root.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { actions[button.getAttribute("data-action")](); });
  });
  root.querySelectorAll("[data-tab]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      root.querySelectorAll("[data-tab]").forEach(function (t) { t.setAttribute("aria-selected", t === tab); });
      root.querySelectorAll("[data-pane]").forEach(function (pane) {
        pane.hidden = pane.getAttribute("data-pane") !== tab.getAttribute("data-tab"); });
      if (tab.getAttribute("data-tab") === "process") {  // the canvas measured itself while hidden
        canvas.resized();
        renderPanel(modeler.get("selection").get()[0]);
      }
    });
  });
  document.getElementById("studio-name").addEventListener("input", markDirty);
  // a file from another tool (Camunda Modeler, Flowable …) replaces the diagram; the server translates
  // its dialect when it validates and deploys
  document.getElementById("studio-open").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    file.text().then(function (xml) { return modeler.importXML(xml); }).then(function () {
      canvas.zoom("fit-viewport", "auto"); markDirty(); renderPanel(); validateLive();
    }).catch(function (error) { say(words.failed + ": " + (error && error.message || error), "error"); });
    event.target.value = "";
  });
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) { event.preventDefault(); event.returnValue = words.leave; }
  });
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); save(); }
  });

  modeler.on("selection.changed", function (event) { renderPanel(event.newSelection[0]); });
  modeler.on("element.changed", function (event) {
    var selected = modeler.get("selection").get()[0];
    if (!selected || selected === event.element) { renderPanel(selected); }
  });
  modeler.on("commandStack.changed", function () { markDirty(); validateLive(); });

  Promise.all([request("GET", root.getAttribute("data-draft-url")),
               request("GET", root.getAttribute("data-catalogue-url"))]).then(function (loaded) {
    var draft = loaded[0];
    state.catalogue = loaded[1];
    state.revision = draft.revision;
    state.forms = draft.forms || {};
    state.decisions = draft.decisions || {};
    var copy = document.getElementById("copy-form-key");
    [["", words.select]].concat(state.catalogue.forms.map(function (k) { return [k, k]; })).forEach(function (o) {
      copy.appendChild(el("option", { value: o[0], text: o[1] })); });
    renderLists();
    return modeler.importXML(draft.bpmn).then(function () {
      canvas.zoom("fit-viewport", "auto");
      state.dirty = false;
      renderPanel();
      say(fmt(words.saved, draft.revision), "ok");
    });
  }).catch(function (error) { say(words.failed + ": " + (error && error.message || error), "error"); });
})();

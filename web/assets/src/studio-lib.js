// The designer studio's libraries, bundled by build.mjs into web/static/build/studio-lib.js.
// The studio's own code (web/static/js/studio.js) uses them through window.BanjianStudio.
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import TokenSimulationModule from "bpmn-js-token-simulation/lib/modeler";
import DmnModeler from "dmn-js/lib/Modeler";
import { FormEditor } from "@bpmn-io/form-js-editor";
import { diff } from "bpmn-js-differ";
import spiffworkflow from "./spiffworkflow.json";

window.BanjianStudio = {
  BpmnModeler, NavigatedViewer, TokenSimulationModule, DmnModeler, FormEditor, diff,
  moddleExtensions: { spiffworkflow },
};

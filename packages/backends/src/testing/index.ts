export {
  encodeGguf,
  writeGguf,
  type GgufFile,
  type GgufTensor,
  type GgufValue,
} from "./gguf-writer.ts";
export {
  buildTestModel,
  CHATML_THINK_TEMPLATE,
  COUNTING_TRANSITIONS,
  getTestModel,
  TestModelVocabulary,
  writeTestModel,
  type TestModelOptions,
  type TestModelTransition,
} from "./test-model.ts";

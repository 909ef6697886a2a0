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
export {
  FAMILY_TOKENIZERS,
  FamilyTokenizer,
  HARMONY_TEMPLATE,
  familyTokenizer,
} from "./family-tokenizers.ts";
export {
  buildFamilyTestModel,
  getFamilyTestModel,
  type FamilyTestModelOptions,
} from "./family-test-model.ts";
export * from "./family-script.ts";

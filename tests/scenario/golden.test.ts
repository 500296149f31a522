// Golden scenarios (see golden-suite.ts): every file in scenarios/ except the main job.
import { goldenSuite } from "./golden-suite.js";

goldenSuite("golden scenarios", (f) => !f.startsWith("build-16g."));

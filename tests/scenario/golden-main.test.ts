// Golden scenarios (see golden-suite.ts): the main job, in its own file so it runs in parallel.
import { goldenSuite } from "./golden-suite.js";

goldenSuite("golden scenarios: the main job", (f) => f.startsWith("build-16g."));

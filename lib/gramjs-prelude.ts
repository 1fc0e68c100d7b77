// For sandbox/ until branch wt-mtproto is merged; then delete.
import "./client/gramjs/prelude.ts";

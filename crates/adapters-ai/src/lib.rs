//! WildID's species identification adapters: implementations of the `SpeciesIdentifier` port
//! (`wildid_ports::identify`) for OpenAI-compatible chat-completion providers with vision.
//!
//! The crate is part of the foundation's layout so that the dependency rule (adapters never
//! depend on each other; only `app` depends on all of them) holds from the first commit. The
//! provider client lands with the identification capability; until then the server composes
//! no identifier and offers no identification route.

// Module<T>: a named tree of parameters, as PyTorch's nn.Module.
//
// A module registers its parameters and its child modules under short names; the dotted path from
// the root (e.g. "transformer.h.0.attn.c_attn.weight") is the parameter's name, and for the GPT
// these names equal the GPT-2 checkpoint keys, so checkpoints can be read by name. Parameters and
// children are kept in registration order, so named_parameters() is deterministic and matches the
// order in which the model was built. A module owns its children; parameters are Vars (shared
// handles), so the optimizer and the module see the same tensors.
#pragma once

#include "ouro/autograd/var.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/parallel.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ouro::nn {

template <typename T> class Module {
public:
    /// `type_name` names the module's class in error messages ("Linear", "GPT").
    explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    const std::string& type_name() const { return type_name_; }
    /// Dotted name of this module from the root ("" for the root, "transformer.h.0" for a block).
    const std::string& path() const { return path_; }
    /// path() + "." + name (or just name at the root): the name of something this module owns.
    std::string name_of(const std::string& name) const {
        return path_.empty() ? name : path_ + "." + name;
    }

    /// Every parameter under this module with its dotted name, in registration order (a module's
    /// own parameters, then each child's, depth first).
    std::vector<std::pair<std::string, Var<T>>> named_parameters() const {
        std::vector<std::pair<std::string, Var<T>>> out;
        collect("", out);
        return out;
    }
    std::vector<Var<T>> parameters() const {
        std::vector<Var<T>> out;
        for (auto& [name, p] : named_parameters())
            out.push_back(p);
        return out;
    }
    /// The parameter with this dotted name; throws ConfigError when there is none.
    Var<T> parameter(std::string_view dotted_name) const {
        for (auto& [name, p] : named_parameters())
            if (name == dotted_name)
                return p;
        throw ConfigError(type_name_ + ": no parameter named '" + std::string(dotted_name) + "'");
    }
    /// Number of scalar parameters.
    std::int64_t num_parameters() const {
        std::int64_t n = 0;
        for (auto& [name, p] : named_parameters())
            n += p.numel();
        return n;
    }
    /// Zeroes every parameter's gradient, keeping the buffers (one parallel region for all).
    void zero_grad() {
        std::vector<std::pair<T*, std::int64_t>> grads;
        for (auto& [name, p] : named_parameters())
            if (p.has_grad())
                grads.emplace_back(p.grad().data(), p.numel());
        ouro::detail::parallel_fill_ranges(grads, T(0));
    }

    /// Training mode (dropout active) or evaluation mode, for this module and all below it.
    void train(bool on = true) {
        training_ = on;
        for (auto& [name, child] : children_)
            child->train(on);
    }
    void eval() { train(false); }
    bool training() const { return training_; }

protected:
    /// Registers a parameter (requires_grad) under `name` and returns its handle. Throws
    /// ConfigError for an invalid or duplicate name.
    Var<T> register_parameter(const std::string& name, Tensor<T> value) {
        check_name("register_parameter", name);
        parameters_.emplace_back(name, Var<T>(std::move(value), true));
        return parameters_.back().second;
    }
    /// Takes ownership of a child module registered under `name` and returns it.
    template <typename M> M& register_module(const std::string& name, std::unique_ptr<M> module) {
        check_name("register_module", name);
        M& ref = *module;
        module->set_path(name_of(name));
        children_.emplace_back(name, std::move(module));
        return ref;
    }

private:
    void check_name(const char* what, const std::string& name) const {
        bool valid = !name.empty();
        for (char c : name)
            valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_');
        if (!valid)
            throw ConfigError(type_name_ + "::" + what + ": invalid name '" + name +
                              "' (use letters, digits and '_')");
        for (auto& [n, p] : parameters_)
            if (n == name)
                throw ConfigError(type_name_ + "::" + what + ": '" + name +
                                  "' is already registered");
        for (auto& [n, c] : children_)
            if (n == name)
                throw ConfigError(type_name_ + "::" + what + ": '" + name +
                                  "' is already registered");
    }

    void set_path(const std::string& path) {
        path_ = path;
        for (auto& [name, child] : children_)
            child->set_path(name_of(name));
    }

    void collect(const std::string& prefix,
                 std::vector<std::pair<std::string, Var<T>>>& out) const {
        for (auto& [name, p] : parameters_)
            out.emplace_back(prefix + name, p);
        for (auto& [name, child] : children_)
            child->collect(prefix + name + ".", out);
    }

    std::string type_name_;
    std::string path_;
    std::vector<std::pair<std::string, Var<T>>> parameters_;
    std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
    bool training_ = true;
};

/// A module that only groups children under names (PyTorch's ModuleDict / ModuleList): the GPT's
/// "transformer" and its list of blocks "h" (children named "0", "1", ...).
template <typename T> class ModuleGroup : public Module<T> {
public:
    explicit ModuleGroup(std::string type_name) : Module<T>(std::move(type_name)) {}
    template <typename M> M& add(const std::string& name, std::unique_ptr<M> module) {
        return this->register_module(name, std::move(module));
    }
};

} // namespace ouro::nn

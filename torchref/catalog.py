"""The formula catalog: every ID of the notes' inventory, what implements it, what proves it.

`python -m torchref.catalog` prints the table; `--json` prints a list of objects with `id`,
`title`, `source`, `scratch`, `torch`, `tests`, `status`, `note`. Names are strings so the
catalog can be read without importing torch; `parity_tests/test_catalog.py` imports every
callable and finds every test named here, so the catalog cannot claim what does not exist.

Reference forms:
  callable  "package.module:qualname"   e.g. "scratch.activations:sigmoid", "torch.nn:Sigmoid"
  test      "parity_tests/test_x.py::test_name" (or "...::TestClass::test_name")

Status: covered = scratch, torch and tests all named; partial = some named; missing = none.
Seed documents: 000 lecture-10 slides, 001 "math behind neural networks", 002 chapter 4
"Deep Neural Networks", 003 exam-prep slides, 004 cost function and backpropagation slides.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

__all__ = ["Entry", "CATALOG", "by_id", "main"]


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    source: str
    scratch: tuple[str, ...] = ()
    torch: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    note: str = ""

    @property
    def status(self) -> str:
        parts = (self.scratch, self.torch, self.tests)
        if all(parts):
            return "covered"
        return "partial" if any(parts) else "missing"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(scratch=list(self.scratch), torch=list(self.torch), tests=list(self.tests))
        d["status"] = self.status
        return d


E = Entry

# fmt: off
CATALOG: tuple[Entry, ...] = (
    # ---- A. Neurons and activation functions ------------------------------------------------
    E("A1", "Threshold (binary threshold unit, BTU) neuron y = 1{x^T w + b > 0}", "000 003",
      scratch=(
        "scratch.activations:step",
        "scratch.activations:step_grad",
        "scratch.activations:threshold_neuron",
        "scratch.classic:btu",
        "scratch.classic:btu_layer",
      ),
      torch=(
        "torchref.activations:Step",
        "torchref.activations:Neuron",
        "torchref.classic:BTU",
      ),
      tests=(
        "parity_tests/test_activations.py::test_threshold_neuron_outputs_zero_on_the_boundary_and_matches_torch",
        "parity_tests/test_activations.py::test_step_and_sign_unit_match_heaviside_and_have_zero_gradient",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
        "parity_tests/test_classic.py::test_btu_matches_torch_btu_and_the_strict_inequality",
        "parity_tests/test_classic.py::test_btu_outputs_zero_exactly_on_the_threshold_in_both_rooms",
        "parity_tests/test_classic.py::test_btu_layer_matches_linear_then_step",
      ),
      note="step(0) = 0 (strict inequality). Derivative 0 a.e.; torchref Step = sign(relu(z)) so autograd returns that 0."),
    E("A2", "Generic neuron h(x; w, b) = phi(x^T w + b)", "000 001",
      scratch=(
        "scratch.activations:neuron",
        "scratch.activations:get_activation",
      ),
      torch=(
        "torchref.activations:Neuron",
        "torch.nn:Linear",
        "torchref.activations:get_activation_module",
      ),
      tests=(
        "parity_tests/test_activations.py::test_generic_neuron_matches_linear_then_activation_module",
        "parity_tests/test_activations.py::test_torchref_has_a_module_for_every_scratch_activation",
      )),
    E("A3", "Sigmoid 1/(1+e^-z) and derivative sigma(1-sigma)", "000 002 003 004",
      scratch=(
        "scratch.activations:sigmoid",
        "scratch.activations:sigmoid_grad",
      ),
      torch=(
        "torch.nn:Sigmoid",
        "torch.nn.functional:sigmoid",
      ),
      tests=(
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
        "parity_tests/test_activations.py::test_activation_derivative_matches_central_differences",
        "parity_tests/test_activations.py::test_sigmoid_grad_is_sigma_times_one_minus_sigma",
      ),
      note="sigmoid' computed as e/(1+e)^2, e = exp(-|z|): accurate in both tails."),
    E("A4", "tanh and derivative 1-tanh^2; slide variant tanh(x/2) = 2 sigma(x) - 1", "000 002",
      scratch=(
        "scratch.activations:tanh",
        "scratch.activations:tanh_grad",
        "scratch.activations:tanh_half",
        "scratch.activations:tanh_half_grad",
      ),
      torch=(
        "torch.nn:Tanh",
        "torchref.activations:TanhHalf",
      ),
      tests=(
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
        "parity_tests/test_activations.py::test_activation_derivative_matches_central_differences",
        "parity_tests/test_activations.py::test_tanh_half_equals_two_sigmoid_minus_one",
        "parity_tests/test_activations.py::test_sigmoid_grad_is_sigma_times_one_minus_sigma",
      )),
    E("A5", "ReLU max(0,z), derivative 1{z>0} (0 at z = 0)", "000 002",
      scratch=(
        "scratch.activations:relu",
        "scratch.activations:relu_grad",
      ),
      torch=(
        "torch.nn:ReLU",
        "torch.nn.functional:relu",
      ),
      tests=(
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
        "parity_tests/test_activations.py::test_activation_derivative_matches_central_differences",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
      ),
      note="relu'(0) = 0, as torch autograd."),
    E("A6", "PReLU max(alpha x, x) with learnable alpha; Leaky ReLU = PReLU with alpha 0.01", "002",
      scratch=(
        "scratch.activations:prelu",
        "scratch.activations:prelu_grad",
        "scratch.activations:prelu_grad_alpha",
        "scratch.activations:prelu_backward",
        "scratch.activations:leaky_relu",
        "scratch.activations:leaky_relu_grad",
      ),
      torch=(
        "torch.nn:PReLU",
        "torch.nn:LeakyReLU",
      ),
      tests=(
        "parity_tests/test_activations.py::test_prelu_value_and_both_gradients_match_nn_prelu",
        "parity_tests/test_activations.py::test_prelu_grad_alpha_matches_central_differences",
        "parity_tests/test_activations.py::test_leaky_relu_is_prelu_with_fixed_alpha_and_notes_max_form_holds_for_alpha_at_most_1",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
      ),
      note="Derivative at 0 is alpha (torch). The notes' max(alpha x, x) equals PReLU only for alpha <= 1."),
    E("A7", "ELU x if x>0 else alpha(e^x - 1)", "002",
      scratch=(
        "scratch.activations:elu",
        "scratch.activations:elu_grad",
      ),
      torch=(
        "torch.nn:ELU",
      ),
      tests=(
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
        "parity_tests/test_activations.py::test_activation_derivative_matches_central_differences",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
        "parity_tests/test_activations.py::test_elu_alpha_is_a_fixed_hyperparameter_while_prelu_alpha_is_learned",
      ),
      note="elu'(0) = alpha (torch takes the z <= 0 branch). alpha is a fixed hyper-parameter in torch, not learned as the notes say."),
    E("A8", "Swish (self-gated) z * sigmoid(z)", "003",
      scratch=(
        "scratch.activations:swish",
        "scratch.activations:swish_grad",
      ),
      torch=(
        "torch.nn:SiLU",
      ),
      tests=(
        "parity_tests/test_activations.py::test_activation_and_derivative_match_torch_module_autograd",
        "parity_tests/test_activations.py::test_activation_parity_on_random_shapes_and_values",
        "parity_tests/test_activations.py::test_extreme_inputs_give_finite_values_without_warnings",
        "parity_tests/test_activations.py::test_activation_derivative_matches_central_differences",
      )),
    E("A9", "Sign/step unit for logic constructions (outputs 0/1)", "002 003",
      scratch=(
        "scratch.activations:sign_unit",
        "scratch.activations:sign_unit_grad",
        "scratch.activations:sign",
        "scratch.activations:sign_grad",
        "scratch.classic:threshold_net_forward",
      ),
      torch=(
        "torchref.activations:SignUnit",
        "torchref.activations:Sign",
        "torchref.classic:ThresholdNet",
      ),
      tests=(
        "parity_tests/test_activations.py::test_step_and_sign_unit_match_heaviside_and_have_zero_gradient",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
        "parity_tests/test_classic.py::test_xor_net_truth_table_and_hidden_units_in_scratch_and_torch",
        "parity_tests/test_classic.py::test_iff_net_truth_table_in_scratch_and_torch",
      ),
      note="The notes' 'sign' unit outputs 0/1 (002 4.1.3), so sign_unit = step; sign is the +-1 sign."),
    E("A10", "Softmax, dy_i/dz_i = y_i(1-y_i), full Jacobian diag(y) - y y^T", "000 003",
      scratch=(
        "scratch.activations:softmax",
        "scratch.activations:softmax_diag_grad",
        "scratch.activations:softmax_jacobian",
        "scratch.activations:softmax_backward",
      ),
      torch=(
        "torch.nn:Softmax",
        "torch.nn.functional:softmax",
        "torch.autograd.functional:jacobian",
      ),
      tests=(
        "parity_tests/test_activations.py::test_softmax_jacobian_matches_torch_autograd_functional_jacobian",
        "parity_tests/test_activations.py::test_softmax_values_and_backward_match_torch",
        "parity_tests/test_activations.py::test_softmax_sums_to_one_and_raising_one_logit_lowers_the_others",
        "parity_tests/test_activations.py::test_softmax_extreme_logits_are_finite_and_match_torch",
      )),
    E("A11", "Sub-gradient definition and the choice used at kinks", "002",
      scratch=(
        "scratch.activations:subgradient_abs",
        "scratch.activations:is_subgradient",
        "scratch.activations:relu_grad",
        "scratch.activations:leaky_relu_grad",
      ),
      torch=(
        "torch.nn.functional:relu",
        "torch.nn.functional:leaky_relu",
        "torch.nn.functional:prelu",
      ),
      tests=(
        "parity_tests/test_activations.py::test_subgradient_of_abs_at_zero_is_minus_one_to_one_and_holds_torch_choice",
        "parity_tests/test_activations.py::test_relu_family_kink_values_are_subgradients",
        "parity_tests/test_activations.py::test_derivative_at_exactly_zero_is_torch_autograd_choice",
      )),
    E("A12", "Saturation: sigmoid' and tanh' vanish, ReLU' does not; zero-centred outputs", "002",
      scratch=(
        "scratch.activations:saturation_point",
        "scratch.activations:sigmoid_grad",
        "scratch.activations:tanh_grad",
        "scratch.activations:relu_grad",
      ),
      torch=(
        "torch.nn.functional:sigmoid",
        "torch.nn.functional:tanh",
        "torch.nn.functional:relu",
      ),
      tests=(
        "parity_tests/test_activations.py::test_sigmoid_and_tanh_saturation_points_match_closed_forms_and_torch",
        "parity_tests/test_activations.py::test_saturation_values_documented_in_docs_activations_md",
        "parity_tests/test_activations.py::test_relu_derivative_never_saturates_and_saturation_point_says_so",
        "parity_tests/test_activations.py::test_mean_output_over_symmetric_inputs_shows_which_is_zero_centred",
      ),
      note="Measured facts in docs/activations.md: sigmoid' < 1e-3 beyond |z| = 6.91, < 1e-6 beyond 13.82; tanh' beyond 4.15 and 7.60."),
    E("A13", "ReLU trains faster; with a bad initialization many ReLU units die (concept)", "002",
      scratch=(
        "scratch.activations:dead_relu_units",
        "scratch.activations:dying_relu_demo",
      ),
      torch=(
        "torch.nn:ReLU",
        "torch.nn:Linear",
      ),
      tests=(
        "parity_tests/test_activations.py::test_dying_relu_units_output_zero_get_zero_gradient_and_never_recover",
        "parity_tests/test_activations.py::test_dead_relu_units_are_those_with_nonpositive_preactivation_everywhere",
      ),
      note="Dying units demonstrated; the x6 training-speed figure (Krizhevsky et al. 2012, a CIFAR-10 CNN) is quoted, not reproduced."),
    # ---- B. Forward pass and architecture ---------------------------------------------------
    E("B1", "Fully connected layer; vectorized Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l])", "000 001",
      scratch=(
        "scratch.mlp:dense_forward",
        "scratch.mlp:dense_backward",
        "scratch.mlp:mlp_forward",
        "scratch.backprop:forward_vectorized",
      ),
      torch=(
        "torch.nn:Linear",
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_dense_layer_equals_nn_linear_and_the_notes_column_form",
        "parity_tests/test_mlp.py::test_mlp_forward_and_predict_equal_torch_mlp_for_random_nets",
        "parity_tests/test_mlp.py::test_mlp_forward_matches_torch_in_float32_with_the_default_tolerance",
      )),
    E("B2", "One-hidden-layer network y = f2(w2 f1(w1^T x + b1) + b2)", "002",
      scratch=(
        "scratch.mlp:one_hidden_layer_net",
      ),
      torch=(
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_one_hidden_layer_formula_equals_the_mlp_and_torch",
      )),
    E("B3", "Universal approximation f_eps(x) = W2 phi(W1 x + b1) + b2", "000 002",
      scratch=(
        "scratch.demonstrations:universal_approximation",
        "scratch.demonstrations:hidden_layer_for_width",
        "scratch.demonstrations:fit_output_layer",
      ),
      torch=(
        "torchref.demonstrations:universal_approximation",
        "torch.linalg:lstsq",
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_sup_norm_error_falls_as_the_hidden_layer_widens",
        "parity_tests/test_demonstrations.py::test_any_continuous_function_not_only_the_default_one",
        "parity_tests/test_demonstrations.py::test_scratch_and_torch_fit_the_same_networks",
        "parity_tests/test_demonstrations.py::test_the_fitted_network_has_the_theorems_form_w2_phi_w1x_b1_plus_b2",
      ),
      note="Hidden layer tiles [0, 1] (ReLU hinges / steep sigmoids), output layer by least squares; sup error on a 4001-point grid: 0.28 (width 2) -> 0.0008 (width 64), ReLU."),
    E("B4", "Output heads: regression, binary (sigmoid), C-class (softmax)", "000",
      scratch=(
        "scratch.mlp:head_output",
        "scratch.mlp:head_loss",
        "scratch.mlp:head_loss_grad",
        "scratch.mlp:loss_and_grads",
      ),
      torch=(
        "torchref.mlp:head_output",
        "torchref.mlp:head_loss",
        "torchref.mlp:MLP.predict",
        "torchref.mlp:MLP.loss",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_head_output_is_identity_sigmoid_or_softmax_like_torch",
        "parity_tests/test_mlp.py::test_loss_and_grads_equal_torch_autograd_for_every_head_with_and_without_l2",
        "parity_tests/test_mlp.py::test_loss_and_grads_float32_parity_with_torch",
        "parity_tests/test_mlp.py::test_one_output_head_loss_equals_torch_default_mean_reduction",
        "parity_tests/test_mlp.py::test_binary_head_with_l2_is_the_notes_network_cost_c4",
        "parity_tests/test_app_models.py::test_regression_head_learns_a_linear_target",
        "parity_tests/test_app_models.py::test_binary_head_separates_xor_with_one_hidden_layer",
        "parity_tests/test_app_cli.py::test_fit_prints_test_accuracy_log_dir_and_the_tensorboard_command",
        "parity_tests/test_app_parity.py::test_lightning_trained_mlp_equals_the_scratch_trained_mlp",
      ),
      note="Loss reduction for every head: sum over outputs, mean over examples (torch: reduction='sum' / N for MSE and BCE-with-logits, F.cross_entropy mean); equals torch's default mean with one output."),
    E("B5", "Bias folded into the weights: a_0 = 1, z_i = sum_{j>=0} theta_ij a_j", "004",
      scratch=(
        "scratch.mlp:to_notes_layout",
        "scratch.mlp:from_notes_layout",
        "scratch.mlp:add_bias_unit",
        "scratch.mlp:forward_folded",
      ),
      torch=(
        "torchref.mlp:MLP",
        "torchref.mlp:load_numpy_params",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_bias_folded_into_theta_equals_separate_bias",
        "parity_tests/test_mlp.py::test_notes_layout_round_trip_is_exact",
      )),
    E("B6", "Worked feed-forward example (Theta1, Theta2, input (1,1,0), output ~0.56)", "003",
      scratch=(
        "scratch.mlp:forward_folded",
      ),
      torch=(
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_b6_feed_forward_worked_example_recomputed_with_scratch_and_torch",
        "parity_tests/test_mlp.py::test_b6_document_prints_the_hidden_activation_with_the_wrong_sign_and_rounding",
      ),
      note="003 prints 1/(1+e^{-0.1}) = 0.47; sigma(-0.1) = 1/(1+e^{0.1}) = 0.4750 (0.48). Output 0.5628 (0.56) is right. See docs/errata.md B6."),
    E("B7", "Representation learning: 3 <= x^2 + y^2 <= 8 separable after one hidden layer", "002",
      scratch=(
        "scratch.demonstrations:circle_demo",
        "scratch.demonstrations:circle_dataset",
        "scratch.demonstrations:train_lbfgs",
        "scratch.classic:linear_separability",
      ),
      torch=(
        "torchref.demonstrations:circle_demo",
        "torch.optim:LBFGS",
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_logistic_regression_learns_nothing_on_the_circle_set_scratch",
        "parity_tests/test_demonstrations.py::test_one_hidden_layer_exceeds_97_percent_and_its_representation_is_separable_scratch",
        "parity_tests/test_demonstrations.py::test_the_same_claims_hold_for_the_torch_networks",
        "parity_tests/test_demonstrations.py::test_circle_labels_follow_the_notes_rule_on_and_off_the_two_circles",
      ),
      note="Points uniform in [-4, 4]^2, 2000 train / 5000 test. Logistic regression = majority rate (~0.75); ReLU MLP [2, 64, 1] by L-BFGS: train 100%, test ~98.3%; hidden representation separable by LP, inputs not."),
    E("B8", "Feed-forward nets are DAGs; recurrent nets have cycles (concept)", "000 003",
      scratch=(
        "scratch.classic:classify_network",
        "scratch.classic:connection_graph",
        "scratch.classic:simulate_recurrent_btu",
      ),
      torch=(
        "torchref.classic:connection_graph",
        "torchref.classic:is_feed_forward",
        "torchref.classic:RecurrentBTU",
        "torch.nn:RNNCell",
      ),
      tests=(
        "parity_tests/test_classic.py::test_an_mlp_is_a_dag_in_both_rooms",
        "parity_tests/test_classic.py::test_two_mutually_connected_neurons_are_recurrent_in_both_rooms",
        "parity_tests/test_classic.py::test_a_self_connection_is_a_cycle",
        "parity_tests/test_classic.py::test_the_recurrent_pair_takes_input_and_keeps_it_circulating",
      ),
      note="graphlib.TopologicalSorter: a topological order (feed-forward) or a CycleError (recurrent)."),
    E("B9", "Without activations the network is one affine map", "000 001 002",
      scratch=(
        "scratch.mlp:collapse_affine",
      ),
      torch=(
        "torchref.mlp:MLP",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_network_without_activations_is_one_affine_map",
        "parity_tests/test_mlp.py::test_a_nonlinear_activation_breaks_the_affine_collapse",
      )),
    E("B10", "A single sigmoid/softmax neuron is logistic regression", "002",
      scratch=(
        "scratch.mlp:loss_and_grads",
        "scratch.mlp:head_output",
      ),
      torch=(
        "torchref.mlp:MLP",
        "torchref.mlp:head_loss",
        "torch.nn.functional:binary_cross_entropy_with_logits",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_single_unit_is_logistic_regression_like_sklearn",
        "parity_tests/test_mlp.py::test_single_sigmoid_unit_cost_and_gradient_equal_c3_closed_form",
      ),
      note="MLP([d, 1], head='binary') / MLP([d, C], head='multiclass') with l2 = 1/C is scikit-learn's LogisticRegression(C) (the test's independent side): same probabilities, zero gradient at sklearn's optimum."),
    E("B11", "Shapes of W1, W2, w3 and theta with the bias; four-layer forward pass", "000 004",
      scratch=(
        "scratch.mlp:init_mlp",
        "scratch.mlp:to_notes_layout",
        "scratch.mlp:forward_folded",
      ),
      torch=(
        "torchref.mlp:MLP",
        "torchref.mlp:to_numpy_params",
      ),
      tests=(
        "parity_tests/test_mlp.py::test_shapes_of_the_000_network_w1_w2_w3",
        "parity_tests/test_mlp.py::test_shapes_of_the_004_four_layer_forward_pass_with_bias_units",
        "parity_tests/test_mlp.py::test_numpy_params_and_state_dict_round_trip",
      )),
    # ---- C. Losses and cost functions -------------------------------------------------------
    E("C1", "Squared error in its three scalings (sum, 1/2 sum, mean)", "002 003 004",
      scratch=(
        "scratch.losses:squared_error",
        "scratch.losses:squared_error_grad",
      ),
      torch=(
        "torchref.losses:squared_error",
        "torch.nn.functional:mse_loss",
      ),
      tests=(
        "parity_tests/test_losses.py::test_squared_error_value_and_grad_match_mse_loss_with_explicit_reduction",
        "parity_tests/test_losses.py::test_squared_error_scalings_relate_to_torch_mean_reduction_as_documented",
        "parity_tests/test_losses.py::test_squared_error_grad_is_two_times_error_and_matches_central_differences",
        "parity_tests/test_losses.py::test_notes_mse_gradient_without_factor_two_is_the_half_mean_scaling",
      ),
      note="scaling: sum S, half_sum S/2, mean S/m, half_mean S/(2m) (003's MSE); torch's mean = S/(m K)."),
    E("C2", "Binary cross-entropy, J = 1/m sum L", "001 003",
      scratch=(
        "scratch.losses:binary_cross_entropy",
        "scratch.losses:binary_cross_entropy_grad",
        "scratch.losses:binary_cross_entropy_with_logits",
        "scratch.losses:binary_cross_entropy_with_logits_grad",
      ),
      torch=(
        "torchref.losses:binary_cross_entropy",
        "torchref.losses:binary_cross_entropy_with_logits",
        "torch.nn.functional:binary_cross_entropy",
        "torch.nn.functional:binary_cross_entropy_with_logits",
      ),
      tests=(
        "parity_tests/test_losses.py::test_binary_cross_entropy_matches_torch_value_and_grad",
        "parity_tests/test_losses.py::test_binary_cross_entropy_grad_matches_central_differences",
        "parity_tests/test_losses.py::test_binary_cross_entropy_at_certain_predictions_is_zero_or_infinite_like_the_maths",
        "parity_tests/test_losses.py::test_binary_cross_entropy_with_logits_matches_torch_value_and_grad",
        "parity_tests/test_losses.py::test_bce_with_logits_equals_bce_of_sigmoid_where_both_are_accurate",
        "parity_tests/test_losses.py::test_bce_with_logits_is_finite_and_exact_at_saturated_logits",
        "parity_tests/test_losses.py::test_logit_losses_match_torch_on_random_shapes_and_values",
      ),
      note="Mean over elements. A certain wrong prediction costs inf here; torch clamps each log at -100."),
    E("C3", "Regularized logistic-regression cost, bias not penalized", "004",
      scratch=(
        "scratch.losses:regularized_logistic_cost",
        "scratch.losses:regularized_logistic_cost_grad",
      ),
      torch=(
        "torchref.losses:regularized_logistic_cost",
        "torch.nn:Linear",
      ),
      tests=(
        "parity_tests/test_losses.py::test_regularized_logistic_cost_and_grad_match_torch_linear_without_bias_penalty",
        "parity_tests/test_losses.py::test_regularized_logistic_cost_float32_matches_torch",
      ),
      note="theta[0] is the bias (not penalized); X without the column of ones."),
    E("C4", "Neural-network cost: CE + lambda/(2m) sum Theta^2 (bias column excluded)", "004",
      scratch=(
        "scratch.losses:network_cost",
        "scratch.losses:network_cost_grad",
      ),
      torch=(
        "torchref.losses:network_cost",
      ),
      tests=(
        "parity_tests/test_losses.py::test_network_cost_matches_torch_network_and_excludes_the_bias_column",
        "parity_tests/test_losses.py::test_network_cost_with_zero_lambda_is_multilabel_cross_entropy",
      ),
      note="Thetas with the bias in column 0 (excluded from the penalty); torch: the weight of each nn.Linear."),
    E("C5", "Multi-label CE over independent sigmoid outputs", "003",
      scratch=(
        "scratch.losses:multilabel_cross_entropy",
        "scratch.losses:multilabel_cross_entropy_grad",
      ),
      torch=(
        "torchref.losses:multilabel_cross_entropy",
        "torch.nn.functional:binary_cross_entropy",
      ),
      tests=(
        "parity_tests/test_losses.py::test_multilabel_cross_entropy_sums_outputs_and_averages_examples_like_torch",
      ),
      note="Sum over outputs, mean over examples = F.binary_cross_entropy(reduction='sum') / N."),
    E("C6", "Categorical CE -sum t_i log y_i; CE = CCE when C = 2", "003",
      scratch=(
        "scratch.losses:categorical_cross_entropy",
        "scratch.losses:categorical_cross_entropy_grad",
        "scratch.losses:cross_entropy_with_logits",
        "scratch.losses:cross_entropy_with_logits_grad",
        "scratch.losses:log_sum_exp",
      ),
      torch=(
        "torchref.losses:categorical_cross_entropy",
        "torchref.losses:cross_entropy_with_logits",
        "torch.nn.functional:nll_loss",
        "torch.nn.functional:cross_entropy",
        "torch.special:logsumexp",
      ),
      tests=(
        "parity_tests/test_losses.py::test_categorical_cross_entropy_matches_nll_loss_of_log_probabilities",
        "parity_tests/test_losses.py::test_binary_ce_equals_categorical_ce_when_c_is_2",
        "parity_tests/test_losses.py::test_cross_entropy_with_logits_matches_f_cross_entropy",
        "parity_tests/test_losses.py::test_cross_entropy_with_logits_is_cce_of_softmax_and_stable_at_saturated_logits",
        "parity_tests/test_losses.py::test_log_sum_exp_matches_torch_logsumexp",
        "parity_tests/test_losses.py::test_logit_losses_match_torch_on_random_shapes_and_values",
      )),
    E("C7", "L2-regularized cost L + lambda/2 ||w||^2", "002",
      scratch=(
        "scratch.losses:l2_penalty",
        "scratch.losses:l2_penalty_grad",
      ),
      torch=(
        "torchref.losses:l2_penalty",
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_losses.py::test_penalty_value_and_grad_match_torch_over_a_list_of_tensors",
        "parity_tests/test_losses.py::test_l2_gradient_is_what_sgd_weight_decay_adds",
      )),
    E("C8", "L1-regularized cost L + lambda sum |w_i|", "002",
      scratch=(
        "scratch.losses:l1_penalty",
        "scratch.losses:l1_penalty_grad",
      ),
      torch=(
        "torchref.losses:l1_penalty",
      ),
      tests=(
        "parity_tests/test_losses.py::test_penalty_value_and_grad_match_torch_over_a_list_of_tensors",
        "parity_tests/test_losses.py::test_l1_subgradient_at_zero_is_torch_choice_and_inside_lambda_interval",
      )),
    E("C9", "Sparse-autoencoder activation penalty on the hidden layer", "003",
      scratch=(
        "scratch.autoencoders:kl_sparsity",
        "scratch.autoencoders:kl_sparsity_grad",
        "scratch.autoencoders:l1_sparsity",
        "scratch.autoencoders:l1_sparsity_grad",
        "scratch.autoencoders:kl_divergence_bernoulli",
      ),
      torch=(
        "torchref.autoencoders:kl_sparsity",
        "torchref.autoencoders:l1_sparsity",
        "torchref.autoencoders:sparsity_penalty",
      ),
      tests=(
        "parity_tests/test_autoencoders.py::test_kl_sparsity_value_and_gradient_match_torch_autograd",
        "parity_tests/test_autoencoders.py::test_l1_sparsity_value_and_gradient_match_torch_autograd",
        "parity_tests/test_autoencoders.py::test_kl_sparsity_gradient_matches_central_differences",
        "parity_tests/test_autoencoders.py::test_kl_sparsity_is_zero_exactly_at_the_target_rate_and_positive_elsewhere",
        "parity_tests/test_autoencoders.py::test_sparsity_functions_reject_bad_rho_beta_and_saturated_rates",
        "parity_tests/test_app_models.py::test_lightning_autoencoder_run_equals_torchref_training_loop",
        "parity_tests/test_app_tensorboard.py::test_autoencoder_xor_and_838_runs_log_their_figures",
      ),
      note="003 names only 'penalties on the hidden activations'; implemented: beta*sum_j KL(rho||rho_hat_j) on the batch-mean code activation (main form, sigmoid code) and beta/m*sum|h| (L1 option)."),
    E("C10", "ERM, MLE (CE = NLL) and MAP (Gaussian prior = L2 penalty)", "000",
      scratch=(
        "scratch.losses:bernoulli_log_likelihood",
        "scratch.losses:categorical_log_likelihood",
        "scratch.losses:gaussian_log_prior",
        "scratch.losses:l2_lambda_for_gaussian_prior",
      ),
      torch=(
        "torch.distributions:Bernoulli",
        "torch.distributions:Categorical",
        "torch.distributions:Normal",
      ),
      tests=(
        "parity_tests/test_losses.py::test_negative_log_likelihood_equals_cross_entropy_exactly",
        "parity_tests/test_losses.py::test_minimizing_cross_entropy_maximizes_likelihood_same_optimum",
        "parity_tests/test_losses.py::test_map_with_gaussian_prior_is_the_l2_cost_with_lambda_one_over_sigma_squared",
      ),
      note="N(0, sigma^2) prior on the weights = L2 with lambda = 1/sigma^2 in the notes' lambda/(2m) form, 1/(m sigma^2) in the lambda/2 form. Same argmin checked with SciPy and scikit-learn (LogisticRegression C = sigma^2)."),
    E("C11", "With a sigmoid output MSE is non-convex in the weights, CE is convex", "003",
      scratch=(
        "scratch.demonstrations:nonconvexity_demo",
        "scratch.demonstrations:mse_sigmoid_loss",
        "scratch.demonstrations:mse_sigmoid_hessian",
        "scratch.demonstrations:ce_sigmoid_loss",
        "scratch.demonstrations:ce_sigmoid_hessian",
        "scratch.demonstrations:local_minima_1d",
      ),
      torch=(
        "torchref.demonstrations:nonconvexity_demo",
        "torchref.demonstrations:loss_hessian",
        "torch.autograd.functional:hessian",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_mse_through_a_sigmoid_has_two_local_minima_ce_has_one_in_both_rooms",
        "parity_tests/test_demonstrations.py::test_gradient_descent_gets_stuck_in_the_worse_mse_minimums_basin",
        "parity_tests/test_demonstrations.py::test_scratch_hessians_match_autograd",
        "parity_tests/test_demonstrations.py::test_ce_hessian_is_positive_semidefinite_at_every_sampled_point",
        "parity_tests/test_demonstrations.py::test_mse_hessian_is_indefinite_somewhere_with_0_1_targets",
        "parity_tests/test_demonstrations.py::test_ce_satisfies_the_convexity_inequality_mse_breaks_it",
        "parity_tests/test_demonstrations.py::test_mse_breaks_the_convexity_inequality_between_its_two_minima",
      ),
      note="1-D data x = (1, 4), t = (0.02, 0.98), z = w x: MSE minima at w = -3.890 (0.240) and 0.318 (0.088), CE one at 0.405."),
    # ---- D. Gradients and backpropagation ---------------------------------------------------
    E("D1", "Chain rule, scalar and multivariable (sum over paths)", "000",
      scratch=(
        "scratch.graph:sum_over_paths",
        "scratch.graph:paths",
        "scratch.graph:backward",
      ),
      torch=(
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_graph.py::test_d1_scalar_chain_rule_is_one_path_product",
        "parity_tests/test_graph.py::test_d1_multivariable_chain_rule_sums_over_paths_like_backward_and_torch",
        "parity_tests/test_graph.py::test_d1_sum_over_paths_on_d8_equals_the_adjoints",
        "parity_tests/test_graph.py::test_node_used_twice_gets_both_shares",
        "parity_tests/test_graph.py::test_random_dag_with_reused_nodes_matches_torch",
      ),
      note="Sum over paths of products of local gradients, on the graph engine; equals one reverse pass and torch autograd."),
    E("D2", "Chain through a path of units (and the branched example)", "000",
      scratch=(
        "scratch.graph:chain_simple",
        "scratch.graph:chain_branched",
      ),
      torch=(
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_graph.py::test_d2_simple_chain_product_equals_backward_and_torch",
        "parity_tests/test_graph.py::test_d2_branched_example_theta3_has_one_path_theta2_needs_two",
      ),
      note="Units h(z; theta) = tanh(theta z); the branched figure is not in the seed, topology rebuilt with h6(z3, z5) (errata D2)."),
    E("D3", "MLP backward in slide form with Diag(phi')", "000",
      scratch=(
        "scratch.backprop:backprop_slide_form",
      ),
      torch=(
        "torchref.mlp:MLP",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_backprop.py::test_slide_form_d3_equals_autograd_of_the_network_output",
        "parity_tests/test_backprop.py::test_every_form_passes_a_central_difference_check",
      )),
    E("D4", "Vectorized backprop, examples as columns, 1/m averaging", "001",
      scratch=(
        "scratch.backprop:backprop_vectorized",
        "scratch.mlp:mlp_backward",
        "scratch.mlp:dense_backward",
      ),
      torch=(
        "torchref.mlp:MLP.loss",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_backprop.py::test_vectorized_form_d4_equals_mlp_backward_and_torch_autograd",
        "parity_tests/test_backprop.py::test_every_form_passes_a_central_difference_check",
        "parity_tests/test_backprop.py::test_all_forms_agree_with_each_other_on_the_notes_sigmoid_network",
        "parity_tests/test_backprop.py::test_forms_in_float32_match_torch_float32_with_the_default_tolerance",
      )),
    E("D5", "Per-neuron MSE + sigmoid backprop recursion", "002",
      scratch=(
        "scratch.backprop:backprop_per_neuron",
      ),
      torch=(
        "torch.nn.functional:mse_loss",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_backprop.py::test_per_neuron_form_d5_equals_autograd_of_squared_error_through_the_output",
        "parity_tests/test_backprop.py::test_d5_with_the_documents_sum_from_i_equals_1_drops_the_first_example",
        "parity_tests/test_backprop.py::test_every_form_passes_a_central_difference_check",
      )),
    E("D6", "Delta form, delta^(L) = a^(L) - y for sigmoid + CE", "004",
      scratch=(
        "scratch.backprop:backprop_delta",
        "scratch.backprop:output_delta",
      ),
      torch=(
        "torch.nn.functional:binary_cross_entropy_with_logits",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_backprop.py::test_delta_form_d6_equals_autograd_for_one_example",
        "parity_tests/test_backprop.py::test_output_delta_a_minus_y_is_the_derivative_of_sigmoid_cross_entropy",
        "parity_tests/test_backprop.py::test_d6_summary_slide_without_the_minus_sign_differentiates_to_y_minus_a",
        "parity_tests/test_backprop.py::test_d6_theta_transpose_delta_carries_a_bias_entry_that_must_be_dropped",
      )),
    E("D7", "Per-example Delta accumulation with the lambda term, bias not regularized", "004",
      scratch=(
        "scratch.backprop:backprop_accumulate",
      ),
      torch=(
        "torchref.mlp:MLP.loss",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_backprop.py::test_accumulated_form_d7_equals_autograd_of_the_cost_with_lambda_times_m",
        "parity_tests/test_backprop.py::test_d7_lambda_term_is_not_the_gradient_of_the_c4_cost_with_the_same_lambda",
        "parity_tests/test_backprop.py::test_every_form_passes_a_central_difference_check",
      ),
      note="004's D = Delta/m + lambda Theta is the gradient of CE/m + lambda/2 sum Theta^2: C4's lambda = m x D7's lambda (docs/errata.md D7)."),
    E("D8", "Computational graph of ln(x1) + x1 x2 - sin(x2): values and adjoints", "002",
      scratch=(
        "scratch.graph:d8_graph",
        "scratch.graph:d8_tape",
        "scratch.graph:trace",
      ),
      torch=(
        "torch.autograd:grad",
        "torchref.verify:verify",
      ),
      tests=(
        "parity_tests/test_graph.py::test_d8_values_and_adjoints_match_torch_and_hand_arithmetic",
        "parity_tests/test_graph.py::test_d8_trace_numbers_the_nodes_v0_to_v6_as_002_does",
        "parity_tests/test_graph.py::test_forward_backward_wengert_list_matches_engine_and_torch_on_d8",
        "parity_tests/test_verify.py::test_d8_table_shows_every_node_from_both_engines_and_the_gradient",
      ),
      note="002 gives no point; computed at (x1, x2) = (2, 5). The printed backward pass is wrong (errata D8)."),
    E("D9", "f(x,y,z) = (x+y) z at x=-2, y=5, z=-4: upstream x local gradients", "003",
      scratch=(
        "scratch.graph:d9_graph",
      ),
      torch=(
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_graph.py::test_d9_upstream_times_local_gradient_matches_torch",
        "parity_tests/test_verify.py::test_d9_claims_from_the_slide_hold",
      ),
      note="f = -12, df/dx = df/dy = -4, df/dz = 3 (003 prints no numbers)."),
    E("D10", "Sigmoid-neuron graph and local-gradient table", "003",
      scratch=(
        "scratch.graph:d10_sigmoid_neuron",
      ),
      torch=(
        "torch.nn:Sigmoid",
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_graph.py::test_d10_sigmoid_neuron_from_gates_matches_torch_sigmoid",
        "parity_tests/test_graph.py::test_d10_printed_reading_sums_to_10_but_outputs_0_99995_not_0_98",
        "parity_tests/test_graph.py::test_d10_classic_bias_reading_reproduces_073_and_the_gate_gradients",
        "parity_tests/test_graph.py::test_d10_local_gradient_table_matches_torch_for_each_gate",
        "parity_tests/test_verify.py::test_d10_classic_reading_through_the_gates_with_a_hand_derived_claim",
      ),
      note="Both readings recomputed: printed (z = 10, f = 0.99995, not 0.98) and bias (f = 0.73); errata D10."),
    E("D11", "Vanishing gradient of MSE through a sigmoid output", "003",
      scratch=(
        "scratch.demonstrations:mse_sigmoid_grad",
        "scratch.demonstrations:saturation_gradients",
      ),
      torch=(
        "torchref.demonstrations:saturation_gradients",
        "torch.nn.functional:mse_loss",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_003_gradient_formulas_match_autograd",
        "parity_tests/test_demonstrations.py::test_saturated_sigmoid_mse_gradient_vanishes_while_ce_stays_near_one",
      ),
      note="003's MSE is 1/(2m) sum (t - y)^2 (its gradient has no 2); F.mse_loss is twice it. At z = -10, t = 1: |dMSE/dw| = 4.5e-5, |dCE/dw| = 0.99995."),
    E("D12", "CE through a sigmoid cancels y(1-y); ReLU- and tanh-unit update rules", "003",
      scratch=(
        "scratch.demonstrations:ce_sigmoid_grad",
        "scratch.demonstrations:unit_grad",
        "scratch.demonstrations:doc_relu_update",
      ),
      torch=(
        "torchref.demonstrations:unit_grad",
        "torch.nn.functional:binary_cross_entropy_with_logits",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_003_gradient_formulas_match_autograd",
        "parity_tests/test_demonstrations.py::test_unit_update_rules_match_autograd",
        "parity_tests/test_demonstrations.py::test_relu_cross_entropy_needs_outputs_inside_0_1",
        "parity_tests/test_demonstrations.py::test_the_documents_relu_update_rule_is_not_the_relu_units_gradient",
      ),
      note="ReLU unit: MSE (y - t)1{z>0}x, CE (y - t)/(y(1 - y))1{z>0}x; tanh unit: MSE (y - t)(1 - y^2)x, CE on (1 + y)/2: (y - (2t - 1))x. 003's ReLU slide ends with the sigmoid rule (errata D12)."),
    E("D13", "Generic forward/backward pass over N nodes in topological order", "002",
      scratch=(
        "scratch.graph:forward_backward",
        "scratch.graph:topological_order",
        "scratch.graph:backward",
      ),
      torch=(
        "torch.autograd:grad",
        "torchref.graph:evaluate",
      ),
      tests=(
        "parity_tests/test_graph.py::test_forward_backward_wengert_list_matches_engine_and_torch_on_d8",
        "parity_tests/test_graph.py::test_topological_order_puts_every_node_after_its_parents",
        "parity_tests/test_graph.py::test_unary_op_value_and_adjoint_match_torch_autograd",
        "parity_tests/test_graph.py::test_binary_op_broadcasts_and_sums_adjoints_back_like_torch",
        "parity_tests/test_graph.py::test_random_dag_with_reused_nodes_matches_torch",
        "parity_tests/test_graph.py::test_d13_notes_single_chain_product_misses_the_second_path",
        "parity_tests/test_graph.py::test_d13_gradient_step_needs_the_minus_sign",
      ),
      note="Reverse accumulation sums over children, not one chain; the update needs -eps (errata D13)."),
    # ---- E. Classic units and learning rules ------------------------------------------------
    E("E1", "Perceptron learning rule dw_j = lambda (t_j - y_j) x_j", "003",
      scratch=(
        "scratch.classic:perceptron_update",
        "scratch.classic:perceptron_output",
        "scratch.classic:perceptron_train",
        "scratch.classic:add_bias_input",
      ),
      torch=(
        "torchref.classic:Perceptron",
        "torchref.classic:perceptron_criterion",
        "torchref.classic:perceptron_train",
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_classic.py::test_one_perceptron_step_is_one_sgd_step_on_the_perceptron_criterion",
        "parity_tests/test_classic.py::test_perceptron_trace_matches_torch_on_random_separable_data",
        "parity_tests/test_classic.py::test_perceptron_rejects_bad_arguments",
      ),
      note="Bias folded in as x0 = 1. torch: the rule is one SGD step on the perceptron criterion -(t - y) w.x (y held constant); the traces agree bit for bit."),
    E("E2", "Worked AND exercise from w = (-1.2, -0.3, -0.4), lambda = 0.9", "003",
      scratch=(
        "scratch.classic:perceptron_train",
        "scratch.classic:format_perceptron_trace",
        "scratch.classic:and_exercise",
      ),
      torch=(
        "torchref.classic:perceptron_train",
        "torchref.classic:and_exercise",
        "torchref.classic:main",
      ),
      tests=(
        "parity_tests/test_classic.py::test_and_exercise_rows_1_to_9_match_the_documents_numbers",
        "parity_tests/test_classic.py::test_and_exercise_update_annotations_sit_on_rows_4_5_8_9_not_the_documents_4_5_7_8",
        "parity_tests/test_classic.py::test_and_exercise_runs_to_convergence_like_exact_rational_arithmetic",
        "parity_tests/test_classic.py::test_torch_perceptron_reproduces_the_and_exercise_trace_bitwise",
        "parity_tests/test_classic.py::test_cli_prints_the_and_trace_row_by_row_then_convergence",
        "parity_tests/test_classic.py::test_cli_runs_as_a_module_in_a_subprocess",
      ),
      note="`python -m torchref.classic perceptron-and` prints the trace. Rows 1-9 match the document's numbers; its update annotations on rows 7-8 belong to rows 8-9 (errata E2). Converges after 9 epochs, 16 updates, w = (-3, 1.5, 2.3)."),
    E("E3", "Hebbian and anti-Hebbian rules; the perceptron rule by case", "003",
      scratch=(
        "scratch.classic:hebbian_update",
        "scratch.classic:anti_hebbian_update",
        "scratch.classic:perceptron_as_hebbian",
        "scratch.classic:perceptron_case",
      ),
      torch=(
        "torch:outer",
        "torchref.classic:perceptron_criterion",
      ),
      tests=(
        "parity_tests/test_classic.py::test_hebbian_update_is_the_outer_product_like_torch",
        "parity_tests/test_classic.py::test_anti_hebbian_synapse_weakens_when_both_neurons_fire_together",
        "parity_tests/test_classic.py::test_perceptron_rule_is_hebbian_on_the_target_plus_anti_hebbian_on_the_output",
        "parity_tests/test_classic.py::test_the_four_cases_of_003_kind_and_direction",
      ),
      note="dW returned as (n_out, n_in). The perceptron rule = Hebbian on the target + anti-Hebbian on the output. 003's 'strengthen/weaken' describe w_i x_i, not w_i (errata E3)."),
    E("E4", "Logic gates from BTUs: AND, OR, NOT, purple AND round", "003",
      scratch=(
        "scratch.classic:btu",
        "scratch.classic:Unit",
        "scratch.classic:edible",
        "scratch.classic:invert_unit",
      ),
      torch=(
        "torchref.classic:BTU",
        "torchref.classic:gate",
      ),
      tests=(
        "parity_tests/test_classic.py::test_two_input_gate_truth_tables_in_scratch_and_torch",
        "parity_tests/test_classic.py::test_not_gate_truth_table_in_scratch_and_torch",
        "parity_tests/test_classic.py::test_edible_unit_eats_only_purple_round_things",
        "parity_tests/test_classic.py::test_negating_a_units_weights_and_bias_inverts_it_off_the_threshold",
        "parity_tests/test_classic.py::test_inversion_fails_exactly_on_the_threshold",
        "parity_tests/test_classic.py::test_nand_is_the_inverted_and_unit",
      ),
      note="AND (1,1;-1.5), OR (1,1;-0.5), NOT (-1;0.5), NAND, EDIBLE = purple AND round. Negating weights and bias inverts a unit except on its threshold."),
    E("E5", "XOR is not linearly separable; 4 points is the minimum for a non-separable labeling", "003",
      scratch=(
        "scratch.classic:linear_separability",
        "scratch.classic:is_linearly_separable",
        "scratch.classic:radon_partition",
      ),
      torch=(
        "torchref.classic:perceptron_train",
      ),
      tests=(
        "parity_tests/test_classic.py::test_xor_is_not_linearly_separable_and_the_hulls_meet_at_the_centre",
        "parity_tests/test_classic.py::test_the_four_xor_inequalities_of_003_are_contradictory",
        "parity_tests/test_classic.py::test_and_and_or_are_separable_with_a_btu_hyperplane",
        "parity_tests/test_classic.py::test_every_labeling_of_three_points_in_general_position_is_separable",
        "parity_tests/test_classic.py::test_four_points_in_general_position_always_have_a_non_separable_labeling",
        "parity_tests/test_classic.py::test_separability_answers_carry_a_valid_certificate_on_random_sets",
        "parity_tests/test_classic.py::test_torch_perceptron_learns_exactly_the_separable_boolean_functions",
        "parity_tests/test_classic.py::test_separability_rejects_bad_labels_and_shapes",
      ),
      note="LP feasibility of s_i(w.x_i + b) >= 1 (scipy linprog/HiGHS). Not separable -> Gordan certificate lambda >= 0, sum 1, sum lambda_i s_i (x_i, 1) = 0 (the class hulls meet). torch side: the perceptron converges within Novikoff's bound exactly on the separable sets."),
    E("E6", "XOR with two hidden step units and its truth table", "002",
      scratch=(
        "scratch.classic:xor_net",
        "scratch.classic:threshold_net_forward",
      ),
      torch=(
        "torchref.classic:xor_net",
        "torchref.classic:ThresholdNet",
      ),
      tests=(
        "parity_tests/test_classic.py::test_xor_net_truth_table_and_hidden_units_in_scratch_and_torch",
        "parity_tests/test_classic.py::test_xor_table_row_11_output_sum_is_minus_half_not_the_documents_minus_1_5",
      ),
      note="002's table prints h1 - h2 - 0.5 = -1.5 for input 11; it is -0.5 (errata E6). y is right either way."),
    E("E7", "IFF (XNOR) with 4, 2 and 1 hidden units", "003",
      scratch=(
        "scratch.classic:iff_net",
        "scratch.classic:xor_net_1_skip",
        "scratch.classic:construction_theorem_net",
        "scratch.classic:invert_output",
      ),
      torch=(
        "torchref.classic:iff_net",
        "torchref.classic:construction_theorem_net",
        "torchref.classic:invert_output",
      ),
      tests=(
        "parity_tests/test_classic.py::test_iff_net_truth_table_in_scratch_and_torch",
        "parity_tests/test_classic.py::test_iff_with_two_hidden_units_reuses_the_xor_hidden_layer",
        "parity_tests/test_classic.py::test_construction_theorem_net_computes_every_boolean_function",
        "parity_tests/test_classic.py::test_torch_construction_theorem_net_matches_scratch_on_all_16_functions",
      ),
      note="4 hidden: one unit per truth-table row (construction theorem). 2 hidden: XOR net with output weights negated. 1 hidden (AND) + direct connections: y = s(-x1 - x2 + 2h + 0.5)."),
    E("E8", "The inhibitory unit: positive bias, only negative weights (concept)", "003",
      scratch=(
        "scratch.classic:inhibitory_rate",
        "scratch.classic:inhibitory_sweep",
        "scratch.classic:synapse_depression",
      ),
      torch=(
        "torchref.classic:InhibitoryUnit",
        "torchref.classic:synapse_depression",
        "torch.nn.functional:relu",
      ),
      tests=(
        "parity_tests/test_classic.py::test_inhibitory_unit_answers_the_questions_of_003_in_both_rooms",
        "parity_tests/test_classic.py::test_growing_inhibitory_current_lowers_the_rate_to_silence",
        "parity_tests/test_classic.py::test_artificial_weights_cross_zero_while_biological_synapses_stop_at_zero",
        "parity_tests/test_classic.py::test_inhibitory_unit_rejects_excitatory_weights_and_negative_rates",
      ),
      note="Rate model r = max(0, b + w.x), b > 0, w <= 0, x >= 0 (threshold-linear: the simplest rate that can be silent)."),
    E("E9", "Perceptron convergence on separable data, no convergence otherwise", "003",
      scratch=(
        "scratch.classic:perceptron_train",
        "scratch.classic:novikoff_bound",
        "scratch.classic:PerceptronResult",
      ),
      torch=(
        "torchref.classic:perceptron_train",
      ),
      tests=(
        "parity_tests/test_classic.py::test_perceptron_converges_within_novikoffs_bound_in_both_rooms",
        "parity_tests/test_classic.py::test_perceptron_on_xor_stops_after_max_epochs_and_says_it_did_not_converge",
        "parity_tests/test_classic.py::test_perceptron_weights_on_xor_cycle_and_stay_bounded_they_do_not_diverge",
        "parity_tests/test_classic.py::test_novikoff_bound_on_a_hand_example",
      ),
      note="Non-convergence is a result (converged=False, message), not an exception or warning. 003's 'the weights may even diverge' is wrong for a finite set: they cycle (errata E9)."),
    E("E10", "14 of the 16 Boolean functions of two inputs are linearly separable", "002",
      scratch=(
        "scratch.classic:separable_boolean_functions",
        "scratch.classic:boolean_functions",
      ),
      torch=(
        "torchref.classic:perceptron_train",
        "torchref.classic:construction_theorem_net",
      ),
      tests=(
        "parity_tests/test_classic.py::test_exactly_14_of_the_16_boolean_functions_are_separable_xor_and_xnor_fail",
        "parity_tests/test_classic.py::test_threshold_function_counts_are_4_14_104_like_oeis_a000609",
        "parity_tests/test_classic.py::test_torch_perceptron_learns_exactly_the_separable_boolean_functions",
      ),
      note="14 of 16 separable; XOR (0110) and XNOR (1001) fail. n = 1, 2, 3: 4, 14, 104 (OEIS A000609)."),
    # ---- F. Optimization --------------------------------------------------------------------
    E("F1", "Gradient-descent update w <- w - eps dL/dw", "001 002 004",
      scratch=(
        "scratch.optim:gd_update",
        "scratch.optim:SGD",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float32",
      )),
    E("F2", "Batch GD over a training set, epochs until a stopping rule", "003",
      scratch=(
        "scratch.optim:gradient_descent",
        "scratch.optim:linear_neuron_loss_grad",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f2_batch_gd_matches_torch_full_batch_steps_and_stops_when_the_loss_stops",
      )),
    E("F3", "Worked example: one GD step, one variable, no bias", "003",
      scratch=(
        "scratch.optim:linear_neuron_loss_grad",
        "scratch.optim:gd_update",
      ),
      torch=(
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f3_printed_46_4_needs_t4_8_and_a_slip_in_row_1",
      ),
      note="Not reproducible: row 1 is 115 (not 125) and row 4 needs t4 = 8; correct step 44.4 -> w1 = 1.556 (errata F3)."),
    E("F4", "Worked example with bias (w0 = -1, w1 = 2): reproducible from the data?", "003",
      scratch=(
        "scratch.optim:linear_neuron_loss_grad",
        "scratch.optim:gd_update",
      ),
      torch=(
        "torch.autograd:grad",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f4_printed_gradients_come_from_t4_8_and_the_mean_loss",
      ),
      note="Reproducible only with t4 = 8 and the 1/m loss (4.74, 38.8 -> w = (-1.05, 1.61)); errata F4."),
    E("F5", "LMS rule, online and mini-batch; comparison with the perceptron rule", "003",
      scratch=(
        "scratch.optim:delta_rule_online",
        "scratch.optim:delta_rule_batch",
      ),
      torch=(
        "torch.optim:SGD",
        "torch.nn.functional:mse_loss",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f5_lms_online_pass_matches_torch_sgd_one_example_at_a_time",
        "parity_tests/test_optim.py::test_f5_minibatch_lms_step_matches_torch_and_has_one_lambda_not_two",
        "parity_tests/test_optim.py::test_f5_lms_settles_on_least_squares_where_the_perceptron_never_settles",
      )),
    E("F6", "Worked SGD step for one sigmoid unit (w1=-2, w0=1, x=2, t=1)", "003",
      scratch=(
        "scratch.optim:delta_rule_online",
      ),
      torch=(
        "torch.nn.functional:binary_cross_entropy_with_logits",
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f6_one_sgd_step_of_a_sigmoid_unit_matches_torch",
      ),
      note="y = 0.0474, w = (1.9526, -0.0949); 003 rounds y to 0.05 first (errata F6)."),
    E("F7", "Sub-gradient SGD w(t+1) = w(t) - eta g(t)", "002",
      scratch=(
        "scratch.optim:subgradient_sgd",
        "scratch.optim:absolute_loss_subgradient",
      ),
      torch=(
        "torch:abs",
        "torch.optim:SGD",
        "torch.optim.lr_scheduler:LambdaLR",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f7_subgradient_sgd_matches_torch_autograd_through_abs",
        "parity_tests/test_optim.py::test_f7_sign_choice_is_a_subgradient_also_at_the_kink",
      )),
    E("F8", "Mini-batch SGD with shuffling; an epoch is N/S iterations", "002",
      scratch=(
        "scratch.optim:minibatches",
        "scratch.optim:SGD",
      ),
      torch=(
        "torch.utils.data:DataLoader",
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f8_an_epoch_has_ceil_n_over_s_batches_like_dataloader",
        "parity_tests/test_optim.py::test_f8_minibatch_sgd_epochs_match_torch_on_the_same_batches",
      )),
    E("F9", "Momentum m <- mu m - eps dL/dw, w <- w + m", "002",
      scratch=(
        "scratch.optim:momentum_update",
        "scratch.optim:SGD",
        "scratch.optim:momentum_steady_state",
      ),
      torch=(
        "torch.optim:SGD",
        "torchref.optim:NotesSGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_f9_momentum_step_tends_to_eps_over_one_minus_mu",
        "parity_tests/test_optim.py::test_notes_momentum_equals_torch_momentum_until_the_lr_changes",
        "parity_tests/test_optim.py::test_first_two_steps_of_each_notes_rule_match_hand_arithmetic",
        "parity_tests/test_optim.py::test_notes_variant_differs_from_builtin_by_the_documented_gap",
      ),
      note="torch.optim.SGD(momentum) equals the notes' rule while lr is constant (buffer v = -m/lr); NotesSGD is the notes' rule under lr schedules."),
    E("F10", "Nesterov momentum: gradient at w + mu m", "002",
      scratch=(
        "scratch.optim:nesterov_update",
        "scratch.optim:SGD",
      ),
      torch=(
        "torch.optim:SGD",
        "torchref.optim:NotesSGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_torch_nesterov_iterates_the_notes_lookahead_point",
        "parity_tests/test_optim.py::test_notes_nesterov_needs_a_closure_and_restores_w_when_it_fails",
        "parity_tests/test_optim.py::test_first_two_steps_of_each_notes_rule_match_hand_arithmetic",
        "parity_tests/test_optim.py::test_notes_optimizers_train_digits_to_the_accuracy_of_their_builtins",
      ),
      note="torch's SGD(nesterov=True) iterates the look-ahead point w + mu m; NotesSGD(nesterov=True) keeps the notes' w (needs a closure)."),
    E("F11", "Learning-rate decay: step, exponential, 1/t", "002",
      scratch=(
        "scratch.schedules:step_decay",
        "scratch.schedules:halve_every_5",
        "scratch.schedules:tenth_every_20",
        "scratch.schedules:exponential_decay",
        "scratch.schedules:inverse_time_decay",
      ),
      torch=(
        "torch.optim.lr_scheduler:StepLR",
        "torch.optim.lr_scheduler:ExponentialLR",
        "torch.optim.lr_scheduler:LambdaLR",
        "torchref.schedules:make_scheduler",
      ),
      tests=(
        "parity_tests/test_schedules.py::test_scheduler_lr_sequence_is_the_notes_closed_form",
        "parity_tests/test_schedules.py::test_scheduled_gd_matches_torch_scheduler_step_for_step",
        "parity_tests/test_schedules.py::test_the_notes_typical_step_decays_and_the_exponential_mapping",
      )),
    E("F12", "Adagrad eps_i = eps / sqrt(alpha_i + eps0)", "002",
      scratch=(
        "scratch.optim:adagrad_update",
        "scratch.optim:Adagrad",
      ),
      torch=(
        "torch.optim:Adagrad",
        "torchref.optim:NotesAdagrad",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_notes_adagrad_is_the_builtin_adagrad_with_eps_moved_inside",
        "parity_tests/test_optim.py::test_first_two_steps_of_each_notes_rule_match_hand_arithmetic",
        "parity_tests/test_optim.py::test_notes_variant_differs_from_builtin_by_the_documented_gap",
      ),
      note="Exact built-in: Adagrad(lr=eps, eps=0, initial_accumulator_value=eps0)."),
    E("F13", "RMSprop alpha_i = beta alpha_{i-1} + (1-beta) g^2", "002",
      scratch=(
        "scratch.optim:rmsprop_update",
        "scratch.optim:RMSprop",
      ),
      torch=(
        "torchref.optim:NotesRMSprop",
        "torch.optim:RMSprop",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_first_two_steps_of_each_notes_rule_match_hand_arithmetic",
        "parity_tests/test_optim.py::test_notes_variant_differs_from_builtin_by_the_documented_gap",
        "parity_tests/test_optim.py::test_notes_optimizers_train_digits_to_the_accuracy_of_their_builtins",
      ),
      note="eps0 inside the root: no built-in mapping; gap measured in docs/optimizers.md."),
    E("F14", "Adam as written in the notes, with bias correction", "002",
      scratch=(
        "scratch.optim:adam_update",
        "scratch.optim:Adam",
      ),
      torch=(
        "torchref.optim:NotesAdam",
        "torch.optim:Adam",
      ),
      tests=(
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
        "parity_tests/test_optim.py::test_notes_adam_equals_torch_adam_with_swapped_betas_when_eps_vanishes",
        "parity_tests/test_optim.py::test_first_two_steps_of_each_notes_rule_match_hand_arithmetic",
        "parity_tests/test_optim.py::test_notes_variant_differs_from_builtin_by_the_documented_gap",
        "parity_tests/test_optim.py::test_notes_optimizers_train_digits_to_the_accuracy_of_their_builtins",
      ),
      note="002 swaps the beta names (errata F14); eps0 inside the root; gap in docs/optimizers.md."),
    E("F15", "Learning-rate warm-up; Adam then switch to SGD", "002",
      scratch=(
        "scratch.schedules:linear_warmup",
        "scratch.schedules:warmup_then",
        "scratch.optim:AdamThenSGD",
      ),
      torch=(
        "torch.optim.lr_scheduler:LinearLR",
        "torch.optim.lr_scheduler:SequentialLR",
        "torchref.optim:AdamThenSGD",
      ),
      tests=(
        "parity_tests/test_schedules.py::test_warmup_rises_linearly_from_start_factor_then_holds_and_the_decay_clock_restarts",
        "parity_tests/test_schedules.py::test_scheduler_lr_sequence_is_the_notes_closed_form",
        "parity_tests/test_optim.py::test_adam_then_sgd_is_notes_adam_then_notes_momentum_from_the_switch_point",
        "parity_tests/test_optim.py::test_switch_to_sgd_switches_at_once_on_both_sides",
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
      )),
    E("F16", "Weight decay from L2: w <- (1 - eps lambda) w - eps dL/dw", "002",
      scratch=(
        "scratch.optim:l2_update",
        "scratch.optim:SGD",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f16_weight_decay_form_is_torch_sgd_weight_decay_and_shrinks_w_without_gradient",
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
      )),
    E("F17", "L1 update w <- w - eps (dL/dw + lambda sign(w))", "002",
      scratch=(
        "scratch.optim:l1_update",
        "scratch.optim:SGD",
      ),
      torch=(
        "torchref.optim:NotesSGD",
        "torch:abs",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f17_l1_update_is_autograd_of_the_l1_penalty_with_sign_0_equal_0",
        "parity_tests/test_optim.py::test_optimizer_matches_torch_step_for_step_float64",
      )),
    E("F18", "Linear neuron's bowl: batch GD vs SGD paths", "003",
      scratch=(
        "scratch.optim:sgd_path",
        "scratch.optim:gradient_descent",
        "scratch.optim:linear_neuron_loss",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f18_linear_neuron_bowl_gd_descends_monotonically_while_sgd_keeps_circling",
      ),
      note="Holds at a constant rate on noisy data; SGD converges on exactly-fit data (errata F18)."),
    E("F19", "Learning-rate size: diverges above 2/a on a w^2 / 2, stalls when tiny", "001 002",
      scratch=(
        "scratch.optim:gd_converges_on_quadratic",
        "scratch.optim:quadratic_gd_closed_form",
        "scratch.optim:iterate_until_divergence",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f19_gd_on_a_quadratic_converges_iff_lr_is_below_two_over_a",
        "parity_tests/test_optim.py::test_f19_a_tiny_learning_rate_stalls",
      )),
    E("F20", "The claim that momentum cannot hurt, tested", "002",
      scratch=(
        "scratch.optim:heavy_ball_spectral_radius",
        "scratch.optim:iterate_until_divergence",
        "scratch.optim:quartic_loss_grad",
      ),
      torch=(
        "torch.optim:SGD",
      ),
      tests=(
        "parity_tests/test_optim.py::test_f20_momentum_can_hurt_slower_on_a_quadratic_divergent_on_a_quartic",
      ),
      note="False: counterexamples on w^2/2 (slower) and w^4/4 (diverges); errata F20."),
    # ---- G. Data, initialization, normalization ---------------------------------------------
    E("G1", "Standardization (X_i - mu_i) / sigma_i", "002",
      scratch=(
        "scratch.preprocessing:standardize_fit",
        "scratch.preprocessing:standardize_transform",
      ),
      torch=(
        "torchref.preprocessing:Standardize",
      ),
      tests=(
        "parity_tests/test_preprocessing.py::test_standardize_matches_sklearn_standard_scaler_on_train_and_new_data",
        "parity_tests/test_preprocessing.py::test_standardized_train_data_has_zero_mean_and_unit_variance_but_new_data_does_not",
        "parity_tests/test_preprocessing.py::test_standardize_maps_a_constant_feature_to_zero_like_sklearn",
        "parity_tests/test_preprocessing.py::test_torch_standardize_matches_scratch",
      ),
      note="sigma with ddof=0 as sklearn's StandardScaler; fitted on training data, applied to new data; constant features get scale 1"),
    E("G2", "Decorrelation (PCA) and whitening (PCA and ZCA)", "002",
      scratch=(
        "scratch.preprocessing:pca_fit",
        "scratch.preprocessing:decorrelate",
        "scratch.preprocessing:pca_whiten",
        "scratch.preprocessing:zca_whiten",
      ),
      torch=(
        "torchref.preprocessing:PCATransform",
      ),
      tests=(
        "parity_tests/test_preprocessing.py::test_decorrelated_train_covariance_is_diagonal_with_the_eigenvalues",
        "parity_tests/test_preprocessing.py::test_decorrelate_matches_sklearn_pca_up_to_component_signs",
        "parity_tests/test_preprocessing.py::test_pca_whitened_train_covariance_is_the_identity",
        "parity_tests/test_preprocessing.py::test_pca_whiten_matches_sklearn_pca_whiten_on_train_and_new_data",
        "parity_tests/test_preprocessing.py::test_pca_whiten_on_digits_matches_sklearn_with_20_components",
        "parity_tests/test_preprocessing.py::test_zca_whitening_is_the_inverse_square_root_of_the_covariance",
        "parity_tests/test_preprocessing.py::test_zca_does_not_depend_on_eigenvector_signs_and_stays_closest_to_the_data",
        "parity_tests/test_preprocessing.py::test_torch_pca_transform_matches_scratch",
        "parity_tests/test_preprocessing.py::test_whitening_gives_identity_covariance_for_any_full_rank_data",
      ),
      note="covariance with ddof=1 as sklearn's PCA; eigenvector signs fixed (largest entry positive), sklearn compared up to sign"),
    E("G3", "Weight initialization: zeros, N(0, alpha), Xavier, He, uniform", "002",
      scratch=(
        "scratch.init:init_weight",
        "scratch.init:init_params",
        "scratch.init:init_std",
        "scratch.init:signal_propagation",
        "scratch.init:activation_variances",
      ),
      torch=(
        "torchref.init:initialize",
        "torchref.init:init_weight_",
        "torch.nn.init:kaiming_normal_",
        "torch.nn.init:normal_",
        "torch.nn.init:uniform_",
        "torch.nn.init:zeros_",
      ),
      tests=(
        "parity_tests/test_init.py::test_init_std_is_the_notes_formula",
        "parity_tests/test_init.py::test_torch_kaiming_gain_over_sqrt_fan_in_is_the_notes_std",
        "parity_tests/test_init.py::test_scratch_normal_schemes_have_the_intended_variance_chi_square",
        "parity_tests/test_init.py::test_torch_normal_schemes_have_the_intended_variance_chi_square",
        "parity_tests/test_init.py::test_uniform_scheme_is_u_minus_to_plus_one_over_sqrt_n_on_both_sides",
        "parity_tests/test_init.py::test_torch_default_linear_init_is_the_notes_uniform_and_initialize_leaves_it",
        "parity_tests/test_init.py::test_the_notes_xavier_is_not_torch_xavier_normal",
        "parity_tests/test_init.py::test_identical_init_keeps_hidden_units_identical_after_training",
        "parity_tests/test_init.py::test_zero_init_training_matches_torch_and_keeps_units_identical",
        "parity_tests/test_init.py::test_notes_claim_that_zero_init_gives_zero_outputs_and_gradients_is_wrong",
        "parity_tests/test_init.py::test_relu_activation_variance_through_20_layers_follows_width_var_over_2",
        "parity_tests/test_init.py::test_he_keeps_relu_variance_order_one_while_normal_0_01_collapses",
        "parity_tests/test_init.py::test_torch_signal_propagation_agrees_with_scratch_for_the_same_weights",
      ),
      note="the notes' alphas are standard deviations; Xavier = kaiming_normal_(nonlinearity='linear'), not xavier_normal_; He = kaiming_normal_(nonlinearity='relu'); uniform = torch's default nn.Linear weight distribution; errata G3 (zero init, alpha as variance)"),
    E("G4", "Batch normalization, training and test statistics", "002",
      scratch=(
        "scratch.normalization:batchnorm_forward",
        "scratch.normalization:batchnorm_backward",
        "scratch.normalization:RunningStats",
        "scratch.normalization:LastKStats",
      ),
      torch=(
        "torch.nn:BatchNorm1d",
        "torch.nn:BatchNorm2d",
        "torchref.normalization:LastKBatchNorm",
      ),
      tests=(
        "parity_tests/test_normalization.py::test_batchnorm_train_forward_and_all_gradients_match_torch",
        "parity_tests/test_normalization.py::test_batchnorm_running_stats_match_torch_after_every_step",
        "parity_tests/test_normalization.py::test_batchnorm_normalizes_with_biased_variance_like_the_notes",
        "parity_tests/test_normalization.py::test_batchnorm_running_var_is_unbiased_like_torch",
        "parity_tests/test_normalization.py::test_batchnorm_momentum_none_is_the_cumulative_average_of_batch_statistics",
        "parity_tests/test_normalization.py::test_batchnorm_backward_matches_central_finite_differences",
        "parity_tests/test_normalization.py::test_last_k_stats_are_the_average_of_the_last_k_batches",
        "parity_tests/test_normalization.py::test_last_k_batchnorm_module_matches_scratch_in_train_and_eval",
        "parity_tests/test_normalization.py::test_batchnorm_without_running_stats_uses_batch_statistics_in_eval_like_torch",
      ),
      note="normalization uses the biased batch variance (notes and torch); torch's running_var stores the unbiased one with an exponential average (RunningStats), the notes average the last k batches (LastKStats / LastKBatchNorm)"),
    E("G5", "Image augmentation: rotation, noise, resize, flip, shear/stretch", "002",
      scratch=(
        "scratch.augment:sample_augment_params",
        "scratch.augment:affine_matrices",
        "scratch.augment:affine_transform_images",
        "scratch.augment:augment_images",
        "scratch.augment:flip_horizontal",
      ),
      torch=(
        "torchref.augment:augment_images",
        "torchref.augment:affine_transform_images",
        "torchref.augment:RandomAugment",
        "torch.nn.functional:affine_grid",
        "torch.nn.functional:grid_sample",
      ),
      tests=(
        "parity_tests/test_augment.py::test_affine_matrices_match_torch",
        "parity_tests/test_augment.py::test_augmented_images_match_torch_grid_sample_given_the_same_parameters",
        "parity_tests/test_augment.py::test_affine_transform_matches_torch_for_each_transform_alone",
        "parity_tests/test_augment.py::test_flip_and_half_turn_equal_exact_array_reversal",
        "parity_tests/test_augment.py::test_quarter_turn_is_counter_clockwise_like_rot90",
        "parity_tests/test_augment.py::test_scale_enlarges_the_content_about_the_centre",
        "parity_tests/test_augment.py::test_noise_is_bounded_and_varies_from_pixel_to_pixel",
        "parity_tests/test_augment.py::test_sampled_parameters_follow_the_notes_distributions",
        "parity_tests/test_augment.py::test_seeded_runs_are_reproducible_and_seeds_matter",
      ),
      note="bilinear, zeros outside, align_corners=False; SciPy map_coordinates(order=1, mode='grid-constant') vs F.grid_sample; resize keeps the canvas size"),
    # ---- H. Generalization ------------------------------------------------------------------
    E("H1", "Train/validation split; early stopping when validation loss turns up", "002",
      scratch=(
        "scratch.ensemble:EarlyStopping",
        "scratch.ensemble:early_stopping_update",
        "scratch.ensemble:train_with_early_stopping",
      ),
      torch=(
        "torchref.ensemble:fit_with_early_stopping",
      ),
      tests=(
        "parity_tests/test_ensemble.py::test_early_stopping_rule_matches_lightning_early_stopping_callback",
        "parity_tests/test_ensemble.py::test_early_stopping_on_digits_stops_after_the_validation_loss_turns_up_like_torch",
        "parity_tests/test_ensemble.py::test_early_stopping_stops_on_a_non_finite_loss",
        "parity_tests/test_app_models.py::test_early_stopping_stops_patience_epochs_after_the_validation_minimum",
        "parity_tests/test_app_data.py::test_digits_are_scaled_to_unit_interval_and_split_stratified_and_seeded",
      ),
      note="the rule of lightning.pytorch.callbacks.EarlyStopping(mode='min'): improvement iff loss < best - min_delta, stop after patience epochs without one"),
    E("H2", "Ensembles by initialization, data subset and architecture", "002",
      scratch=(
        "scratch.ensemble:ensemble_by_init",
        "scratch.ensemble:ensemble_by_subset",
        "scratch.ensemble:ensemble_by_architecture",
        "scratch.ensemble:bootstrap_indices",
        "scratch.ensemble:train_ensemble",
        "scratch.ensemble:ensemble_predict",
      ),
      torch=(
        "torchref.ensemble:Ensemble",
      ),
      tests=(
        "parity_tests/test_ensemble.py::test_ensemble_average_matches_torch_ensemble_and_beats_the_average_member",
        "parity_tests/test_ensemble.py::test_bootstrap_sees_one_minus_one_over_e_of_the_rows",
        "parity_tests/test_app_models.py::test_ensemble_members_train_exactly_as_alone_and_the_average_beats_them",
      ),
      note="probabilities are averaged (not logits), so the ensemble's cross-entropy is at most the members' mean"),
    E("H3", "Dropout: classic (scale at test time) vs inverted (scale at training time)", "002",
      scratch=(
        "scratch.dropout:classic_dropout_forward",
        "scratch.dropout:classic_dropout_backward",
        "scratch.dropout:inverted_dropout_forward",
        "scratch.dropout:inverted_dropout_backward",
        "scratch.dropout:dropout_mask",
        "scratch.dropout:classic_to_inverted_weights",
      ),
      torch=(
        "torchref.dropout:ClassicDropout",
        "torchref.dropout:classic_dropout",
        "torchref.dropout:inverted_dropout",
        "torchref.dropout:classic_to_inverted_weights_",
        "torch.nn:Dropout",
        "torch.nn.functional:dropout",
      ),
      tests=(
        "parity_tests/test_dropout.py::test_inverted_dropout_matches_torch_F_dropout_given_its_mask",
        "parity_tests/test_dropout.py::test_classic_dropout_matches_torch_module_given_the_same_mask",
        "parity_tests/test_dropout.py::test_classic_dropout_draws_the_same_mask_as_nn_dropout_from_the_same_seed",
        "parity_tests/test_dropout.py::test_inverted_dropout_is_unbiased_and_classic_train_mean_equals_classic_test",
        "parity_tests/test_dropout.py::test_torch_dropouts_are_unbiased_within_the_variance_bound",
        "parity_tests/test_dropout.py::test_dropped_fraction_follows_the_binomial_distribution",
        "parity_tests/test_dropout.py::test_classic_net_equals_inverted_net_after_weight_rescaling_in_scratch",
        "parity_tests/test_dropout.py::test_classic_mlp_at_test_time_equals_inverted_mlp_in_eval_after_rescaling",
        "parity_tests/test_dropout.py::test_p_zero_is_the_identity_everywhere",
        "parity_tests/test_dropout.py::test_p_close_to_one_drops_almost_everything_and_stays_finite",
        "parity_tests/test_app_parity.py::test_lightning_trained_mlp_equals_the_scratch_trained_mlp",
        "parity_tests/test_app_models.py::test_lightning_autoencoder_run_equals_torchref_training_loop",
      ),
      note="classic (the notes): scale by 1-p at test time; inverted (torch): by 1/(1-p) while training; equal after W <- (1-p) W on the layer after dropout; errata H3 (p = 0.25 wording)"),
    E("H4", "Overfitting vs underfitting as capacity grows (concept)", "002",
      scratch=(
        "scratch.ensemble:capacity_sweep",
        "scratch.ensemble:random_relu_features",
      ),
      torch=(
        "torchref.ensemble:capacity_sweep",
      ),
      tests=(
        "parity_tests/test_ensemble.py::test_capacity_sweep_training_error_falls_while_validation_error_turns_up",
        "parity_tests/test_ensemble.py::test_capacity_sweep_matches_torch_lstsq",
      ),
      note="one-hidden-layer nets of growing width on 100 digits (frozen random ReLU layer, least-squares output layer); figure in docs/generalization.md"),
    E("H5", "L1 drives weights to exactly 0, L2 only shrinks them", "002",
      scratch=(
        "scratch.ensemble:regularized_least_squares",
        "scratch.ensemble:soft_threshold",
      ),
      torch=(
        "torchref.ensemble:regularized_least_squares",
        "torch.nn.functional:softshrink",
      ),
      tests=(
        "parity_tests/test_ensemble.py::test_l1_proximal_sets_weights_to_exactly_zero_and_matches_sklearn_lasso",
        "parity_tests/test_ensemble.py::test_l2_shrinks_every_weight_but_zeroes_none_like_the_ridge_closed_form",
        "parity_tests/test_ensemble.py::test_the_notes_l1_subgradient_update_hovers_near_zero_but_never_reaches_it",
        "parity_tests/test_ensemble.py::test_regularized_least_squares_matches_torch_autograd_and_softshrink",
        "parity_tests/test_ensemble.py::test_soft_threshold_is_torch_softshrink",
        "parity_tests/test_ensemble.py::test_torch_l2_path_is_sgd_weight_decay",
      ),
      note="exact zeros come from the proximal (soft-threshold) step; the notes' sub-gradient update makes none (errata H5)"),
    # ---- I. Autoencoders --------------------------------------------------------------------
    E("I1", "Autoencoder through a bottleneck; the 8-3-8 encoder and its hidden codes", "003",
      scratch=(
        "scratch.autoencoders:AEConfig",
        "scratch.autoencoders:autoencoder_forward",
        "scratch.autoencoders:autoencoder_backward",
        "scratch.autoencoders:autoencoder_loss_and_grads",
        "scratch.autoencoders:train_autoencoder",
        "scratch.autoencoders:train_838",
        "scratch.autoencoders:fit_838",
        "scratch.autoencoders:code_table",
      ),
      torch=(
        "torchref.autoencoders:Autoencoder",
        "torchref.autoencoders:train_autoencoder",
        "torchref.autoencoders:train_838",
        "torchref.autoencoders:fit_838",
        "torchref.autoencoders:code_table",
      ),
      tests=(
        "parity_tests/test_autoencoders.py::test_autoencoder_code_reconstruction_and_loss_terms_match_torch",
        "parity_tests/test_autoencoders.py::test_autoencoder_gradients_match_torch_autograd",
        "parity_tests/test_autoencoders.py::test_autoencoder_gradients_match_central_differences",
        "parity_tests/test_autoencoders.py::test_train_autoencoder_matches_torch_sgd_step_for_step",
        "parity_tests/test_autoencoders.py::test_838_scratch_and_torch_train_to_the_same_weights_and_codes",
        "parity_tests/test_autoencoders.py::test_838_torch_default_float32_run_reconstructs_with_distinct_codes",
        "parity_tests/test_autoencoders.py::test_838_distinct_codes_rate_over_seeds_and_restart_past_a_colliding_seed",
        "parity_tests/test_autoencoders.py::test_003_printed_hidden_values_round_to_all_eight_3bit_codes",
        "parity_tests/test_autoencoders.py::test_code_table_reproduces_003_layout_in_scratch_and_torch",
        "parity_tests/test_autoencoders.py::test_rounded_codes_round_half_up_at_one_half_in_scratch_and_torch",
        "parity_tests/test_autoencoders.py::test_bad_autoencoder_arguments_raise_the_same_error_in_scratch_and_torch",
        "parity_tests/test_autoencoders.py::test_wrong_feature_count_is_rejected_by_name_and_shape",
        "parity_tests/test_autoencoders.py::test_non_finite_data_is_rejected_before_training",
        "parity_tests/test_app_cli.py::test_838_encoder_reconstructs_all_inputs_with_8_distinct_codes",
        "parity_tests/test_app_models.py::test_lightning_autoencoder_run_equals_torchref_training_loop",
        "parity_tests/test_app_tensorboard.py::test_autoencoder_xor_and_838_runs_log_their_figures",
      ),
      note="8-3-8 by full-batch GD (lr 3, 1000 steps, BCE): about 3 seeds in 4 give 8 distinct rounded codes (147/200); the rest reconstruct but two codes round alike. fit_838 restarts from the next seed."),
    E("I2", "Sparse autoencoder (penalty on hidden activations)", "003",
      scratch=(
        "scratch.autoencoders:sparsity_penalty",
        "scratch.autoencoders:sparsity_penalty_grad",
        "scratch.autoencoders:autoencoder_loss_and_grads",
      ),
      torch=(
        "torchref.autoencoders:Autoencoder",
        "torchref.autoencoders:sparsity_penalty",
      ),
      tests=(
        "parity_tests/test_autoencoders.py::test_autoencoder_gradients_match_torch_autograd",
        "parity_tests/test_autoencoders.py::test_autoencoder_gradients_match_central_differences",
        "parity_tests/test_autoencoders.py::test_kl_sparse_training_pulls_the_mean_code_activation_to_rho",
        "parity_tests/test_autoencoders.py::test_train_autoencoder_matches_torch_sgd_step_for_step",
        "parity_tests/test_app_models.py::test_lightning_autoencoder_run_equals_torchref_training_loop",
      ),
      note="Autoencoder(sizes, sparsity='kl'|'l1', rho, beta); the penalty is taken on the code before dropout."),
    E("I3", "Autoencoder regularized by dropout on the hidden layer", "003",
      scratch=(
        "scratch.autoencoders:autoencoder_forward",
        "scratch.autoencoders:autoencoder_backward",
        "scratch.dropout:inverted_dropout_forward",
        "scratch.dropout:classic_dropout_forward",
      ),
      torch=(
        "torchref.autoencoders:Autoencoder",
        "torchref.dropout:inverted_dropout",
        "torchref.dropout:classic_dropout",
      ),
      tests=(
        "parity_tests/test_autoencoders.py::test_autoencoder_gradients_match_torch_autograd",
        "parity_tests/test_autoencoders.py::test_dropout_autoencoder_replays_torch_own_dropout_draw",
        "parity_tests/test_autoencoders.py::test_dropout_autoencoder_eval_mode_matches_torch_and_classic_equals_rescaled_inverted",
        "parity_tests/test_autoencoders.py::test_train_autoencoder_matches_torch_sgd_step_for_step",
        "parity_tests/test_app_models.py::test_lightning_autoencoder_run_equals_torchref_training_loop",
      ),
      note="Autoencoder(sizes, hidden_dropout=p, dropout_kind='inverted'|'classic'): dropout on the code layer; forward(x, mask) takes an injected keep-mask."),
    E("I4", "Stacked autoencoders: greedy layer-wise pretraining, softmax head, fine-tuning", "003",
      scratch=(
        "scratch.autoencoders:greedy_pretrain",
        "scratch.autoencoders:train_softmax_head",
        "scratch.autoencoders:stack_encoders",
        "scratch.autoencoders:fine_tune",
        "scratch.autoencoders:encode_through",
        "scratch.autoencoders:init_stacked",
      ),
      torch=(
        "torchref.autoencoders:greedy_pretrain",
        "torchref.autoencoders:stack_encoders",
        "torchref.autoencoders:train_head",
        "torchref.autoencoders:fine_tune",
        "torchref.autoencoders:freeze_encoders",
        "torchref.autoencoders:pretrain_inputs",
      ),
      tests=(
        "parity_tests/test_autoencoders.py::test_stacked_pipeline_matches_torch_at_the_end_of_every_stage",
        "parity_tests/test_autoencoders.py::test_freeze_encoders_keeps_them_fixed_even_under_an_optimizer_of_all_parameters",
        "parity_tests/test_autoencoders.py::test_stacked_pipeline_fine_tuning_beats_the_frozen_head_on_digits",
        "parity_tests/test_app_models.py::test_stacked_pipeline_stages_equal_greedy_pretrain_train_head_and_fine_tune",
        "parity_tests/test_app_tensorboard.py::test_stacked_pipeline_logs_each_stage_as_its_own_run",
      ),
      note="Three stages, one call each: greedy_pretrain -> stack_encoders + train_head (encoders frozen) -> fine_tune; scratch (GD) and torch (SGD) agree at the end of every stage."),
    E("I5", "One-hot codes are separable under every labeling, compact codes are not", "003",
      scratch=(
        "scratch.demonstrations:code_separability",
        "scratch.demonstrations:one_hot_codes",
        "scratch.demonstrations:binary_codes",
      ),
      torch=(
        "torchref.demonstrations:one_hot_separators",
        "torchref.classic:perceptron_train",
      ),
      tests=(
        "parity_tests/test_demonstrations.py::test_one_hot_code_is_separable_under_all_256_labelings",
        "parity_tests/test_demonstrations.py::test_three_bit_code_of_8_objects_separates_only_104_labelings_and_parity_fails",
        "parity_tests/test_demonstrations.py::test_the_compact_code_needs_only_ceil_log2_n_units",
      ),
      note="n = 8: one-hot separable under 256/256 labelings (w = 2y - 1, b = 0); 3-bit code under 104/256; parity and x2 XOR x3 fail."),
)
# fmt: on

del E


def by_id(entry_id: str) -> Entry:
    """Return the entry with this ID; a clear error names the valid IDs otherwise."""
    for entry in CATALOG:
        if entry.id == entry_id:
            return entry
    raise KeyError(
        f"unknown catalog id {entry_id!r}; valid ids: {', '.join(e.id for e in CATALOG)}"
    )


def _table(entries) -> str:
    rows = [("ID", "status", "scratch", "torch", "tests", "title")]
    for e in entries:
        rows.append(
            (e.id, e.status, str(len(e.scratch)), str(len(e.torch)), str(len(e.tests)), e.title)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths, strict=True))
        lines.append(f"{head}  {r[5]}")
    counts = {s: sum(e.status == s for e in entries) for s in ("covered", "partial", "missing")}
    lines.append("")
    lines.append(
        f"{len(entries)} ids: {counts['covered']} covered, {counts['partial']} partial, "
        f"{counts['missing']} missing"
    )
    return "\n".join(lines)


def _details(e: Entry) -> str:
    out = [f"{e.id} [{e.status}] {e.title}", f"  source documents: {e.source}"]
    for label, refs in (("scratch", e.scratch), ("torch", e.torch), ("tests", e.tests)):
        out.append(f"  {label}:")
        out.extend(f"    {r}" for r in refs) if refs else out.append("    (none)")
    if e.note:
        out.append(f"  note: {e.note}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torchref.catalog",
        description="Which formula of the notes is implemented, by what, and proven by which tests.",
    )
    parser.add_argument("ids", nargs="*", help="show these IDs in detail (e.g. A3 F14)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--status", choices=("covered", "partial", "missing"), help="only entries with this status"
    )
    args = parser.parse_args(argv)

    try:
        entries = [by_id(i) for i in args.ids] if args.ids else list(CATALOG)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.status:
        entries = [e for e in entries if e.status == args.status]
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
    elif args.ids:
        print("\n\n".join(_details(e) for e in entries))
    else:
        print(_table(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

// Package apitest checks package httpapi against its OpenAPI document: a
// test walks every route with real requests and validates each request
// and each answer with an OpenAPI validator. It is a module of its own so
// that the validator, a test-only dependency, stays out of couponkit's
// go.mod.
package apitest
